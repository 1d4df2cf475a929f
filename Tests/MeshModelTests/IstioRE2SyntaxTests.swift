import MeshModel
import Testing

/// The RE2 checker against Go's regexp/syntax, which Istio's validation uses:
/// the same patterns accepted, the same error text for the rest.
@Suite struct IstioRE2SyntaxTests {
    @Test(arguments: [
        "", "a", "^/api/v[0-9]+$", "(?i)abc", "(?i:abc)", "(?-i)a", "(?i-s:x)", "(?U)a*", "(?s).", "(?)",
        "(?P<name>x)", "(?<name>x)", "a*?", "a+?b??", "a{2,3}", "a{2,}", "a{2}?", "a{1000}",
        // `{` without a valid count is a literal.
        "a{,3}", "x{01}", "{", "a{1,2",
        #"\d\w\s\D\W\S"#, #"\pL"#, #"\p{Greek}"#, #"\P{^Han}"#, "[[:alpha:]]", "[[:^space:]x]", "[^a-z]", "[]a]",
        "[a-]", #"[\d-z]"#, #"[\x00-\x{10FFFF}]"#, #"\Q*+?\E+"#, #"\Qunterminated"#, #"\x41\x{263a}"#, #"\101\0\12"#,
        #"\.\*\[\]\\"#, #"\a\f\n\r\t\v"#, #"\b\B\A\z"#, "^.*?;", "()", "(|a)", "a|", "^*", "(a)(?:b)*",
        #"^(.*?;)?(user=dev-123)(;.*)?"#,
    ])
    func acceptsWhatGoAccepts(pattern: String) {
        #expect(RE2Syntax.error(in: pattern) == nil)
    }

    @Test(arguments: [
        ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),
        ("a(?!x)", "invalid or unsupported Perl syntax: `(?!`"),
        ("(?<=x)y", "invalid named capture: `(?<=x)y`"),
        ("(?<!x)", "invalid named capture: `(?<!x)`"),
        ("(?>x)", "invalid or unsupported Perl syntax: `(?>`"),
        ("(?P=name)", "invalid or unsupported Perl syntax: `(?P`"),
        ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
        ("(?i-)", "invalid or unsupported Perl syntax: `(?i-)`"),
        ("(?P<>x)", "invalid named capture: `(?P<>`"),
        ("(?P<n-1>x)", "invalid named capture: `(?P<n-1>`"),
        (#"(a)\1"#, #"invalid escape sequence: `\1`"#),
        (#"\9"#, #"invalid escape sequence: `\9`"#),
        (#"\Z"#, #"invalid escape sequence: `\Z`"#),
        (#"\e"#, #"invalid escape sequence: `\e`"#),
        (#"\C"#, #"invalid escape sequence: `\C`"#),
        (#"\xZZ"#, #"invalid escape sequence: `\xZZ`"#),
        (#"\x{}"#, #"invalid escape sequence: `\x{}`"#),
        (#"[a-\d]"#, #"invalid escape sequence: `\d`"#),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a*+", "invalid nested repetition operator: `*+`"),
        ("a++", "invalid nested repetition operator: `++`"),
        ("a*?+", "invalid nested repetition operator: `*?+`"),
        ("a{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
        ("a{2}*", "invalid nested repetition operator: `{2}*`"),
        ("*a", "missing argument to repetition operator: `*`"),
        ("(*)", "missing argument to repetition operator: `*`"),
        ("a|+", "missing argument to repetition operator: `+`"),
        ("{2}", "missing argument to repetition operator: `{2}`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("a{3,2}", "invalid repeat count: `{3,2}`"),
        ("(abc", "missing closing ): `(abc`"),
        ("((a)", "missing closing ): `((a)`"),
        ("abc)", "unexpected ): `abc)`"),
        ("[abc", "missing closing ]: `[abc`"),
        ("[]", "missing closing ]: `[]`"),
        ("[z-a]", "invalid character class range: `z-a`"),
        ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
        (#"\p{"#, #"invalid character class range: `\p{`"#),
        (#"\p"#, #"invalid character class range: `\p`"#),
        (#"ab\"#, "trailing backslash at end of expression: ``"),
    ])
    func rejectsWhatGoRejectsWithItsMessage(pattern: String, message: String) {
        #expect(RE2Syntax.error(in: pattern) == "error parsing regexp: \(message)")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let pattern = String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000)
        #expect(RE2Syntax.error(in: pattern)?.contains("expression nests too deeply") == true)
    }
}

/// Kubernetes' `$(VAR)` expansion in `command`, `args` and `env` values
/// (k8s.io/kubernetes third_party/forked/golang/expansion), byte for byte:
/// `$(NAME)` becomes the variable's value when it is defined and stays as
/// written when it is not; `$$` is a literal `$` (so `$$(NAME)` gives
/// `$(NAME)`); any other `$` is kept.
public enum VariableExpansion {
    public static func expand(_ input: String, _ lookup: (String) -> String?) -> String {
        let bytes = Array(input.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var checkpoint = 0
        var cursor = 0
        while cursor < bytes.count {
            if bytes[cursor] == UInt8(ascii: "$") && cursor + 1 < bytes.count {
                out += bytes[checkpoint..<cursor]
                let next = cursor + 1
                var advance = 1
                switch bytes[next] {
                case UInt8(ascii: "$"):
                    out.append(UInt8(ascii: "$"))
                case UInt8(ascii: "("):
                    if let close = bytes[(next + 1)...].firstIndex(of: UInt8(ascii: ")")) {
                        let name = String(decoding: bytes[(next + 1)..<close], as: UTF8.self)
                        if let value = lookup(name) {
                            out += Array(value.utf8)
                        } else {
                            out += bytes[cursor...close]
                        }
                        advance = close - cursor
                    } else {
                        out += [UInt8(ascii: "$"), UInt8(ascii: "(")]
                    }
                default:
                    out += [UInt8(ascii: "$"), bytes[next]]
                }
                cursor += advance
                checkpoint = cursor + 1
            }
            cursor += 1
        }
        out += bytes[min(checkpoint, bytes.count)...]
        return String(decoding: out, as: UTF8.self)
    }

    /// Expansion against an environment.
    public static func expand(_ input: String, in environment: [String: String]) -> String {
        expand(input) { environment[$0] }
    }
}

#if canImport(Glibc)
import Glibc
#endif

import MeshHTTP
import MeshIO
import MeshModel
import MeshSystem

/// The admission webhooks of the API server: on CREATE and UPDATE, the
/// matching MutatingWebhookConfigurations' webhooks (configurations in name
/// order, webhooks in order, each patch applied before the next call), then
/// the ValidatingWebhookConfigurations' webhooks, as the apiserver's
/// MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins do. Calls
/// carry a real AdmissionReview v1 over HTTP; failures follow each webhook's
/// failurePolicy; denials and failures come back in the apiserver's words.
///
/// Not done: `reinvocationPolicy: IfNeeded` (each webhook is called once),
/// `matchConditions` (CEL), `matchPolicy: Equivalent` across versions (each
/// kind is served at one version here), and TLS (https:// URLs are refused
/// with a clear error until MeshTLS serves them; services are called over HTTP).
public final class AdmissionWebhooks: Sendable {
    let store: ResourceStore
    let log: @Sendable (String) -> Void

    static let mutatingResource = GroupResource(group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations")
    static let validatingResource = GroupResource(group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations")

    public init(store: ResourceStore, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.log = log
    }

    /// Runs the mutating webhooks that match; returns the object as they left it, and their warnings.
    public func mutate(_ attributes: AdmissionAttributes) async throws(StatusObject) -> (JSONValue, [String]) {
        var attributes = attributes
        var warnings: [String] = []
        guard Self.admits(attributes) else { return (attributes.object, []) }
        let configurations = configurations(MutatingWebhookConfiguration.self, Self.mutatingResource)
        for webhook in configurations.flatMap({ $0.webhooks ?? [] }) where matches(webhook, attributes) {
            guard let verdict = try await call(webhook, attributes) else { continue }
            warnings += verdict.warnings
            if let patch = verdict.patch {
                do throws(JSONPatch.Failure) {
                    attributes.object = try patch.apply(to: attributes.object)
                } catch {
                    throw StatusObject.internalError("admission webhook \"\(webhook.name)\" returned a patch that does not apply: \(error)")
                }
            }
        }
        return (attributes.object, warnings)
    }

    /// Runs the validating webhooks that match; returns their warnings, or throws the first denial.
    public func validate(_ attributes: AdmissionAttributes) async throws(StatusObject) -> [String] {
        guard Self.admits(attributes) else { return [] }
        var warnings: [String] = []
        let configurations = configurations(ValidatingWebhookConfiguration.self, Self.validatingResource)
        for webhook in configurations.flatMap({ $0.webhooks ?? [] }) where matches(webhook, attributes) {
            if let verdict = try await call(webhook, attributes) { warnings += verdict.warnings }
        }
        return warnings
    }

    /// Webhook configurations are never sent to webhooks (a broken webhook could not be removed otherwise).
    static func admits(_ attributes: AdmissionAttributes) -> Bool {
        attributes.group != "admissionregistration.k8s.io"
    }

    func configurations<T: Resource>(_ type: T.Type, _ resource: GroupResource) -> [T] {
        store.list(resource, namespace: nil, selector: .everything).items
            .sorted { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
            .compactMap { try? ResourceCodec.decode(T.self, from: $0) }
    }

    func matches(_ webhook: some AdmissionWebhook, _ attributes: AdmissionAttributes) -> Bool {
        guard WebhookMatching.rulesMatch(webhook.rules ?? [], attributes),
            WebhookMatching.objectMatches(webhook.objectSelector, attributes) else { return false }
        return WebhookMatching.namespaceMatches(webhook.namespaceSelector, attributes,
                                                namespaceLabels: namespaceLabels(attributes.namespace))
    }

    func namespaceLabels(_ namespace: String) -> [String: String] {
        guard !namespace.isEmpty, let object = try? store.get(ObjectKey(GroupResource(resource: "namespaces"), name: namespace))
        else { return [:] }
        return LabelSelector.labels(of: object)
    }

    // MARK: Calling

    /// Calls one webhook: its verdict when it allowed the request; nil when
    /// a call failure is ignored (failurePolicy Ignore); throws a denial or a
    /// failure under failurePolicy Fail.
    func call(_ webhook: some AdmissionWebhook, _ attributes: AdmissionAttributes) async throws(StatusObject)
        -> AdmissionReview.Verdict?
    {
        let uid = Self.newUID()
        let verdict: AdmissionReview.Verdict
        do throws(WebhookCallFailure) {
            guard (webhook.admissionReviewVersions ?? []).contains("v1") else {
                throw WebhookCallFailure("webhook does not accept v1 AdmissionReview, the only version meshlab sends")
            }
            verdict = try await send(AdmissionReview.request(attributes, uid: uid), uid: uid, webhook: webhook)
        } catch {
            let message = "failed calling webhook \"\(webhook.name)\": \(error.message)"
            if (webhook.failurePolicy ?? .fail) == .ignore {
                log("admission: \(message) (failurePolicy Ignore: the request goes on)")
                return nil
            }
            throw StatusObject.internalError(message)
        }
        guard verdict.allowed else { throw Self.denial(webhook.name, status: verdict.status) }
        return verdict
    }

    /// The apiserver's ToStatusErr: `admission webhook "NAME" denied the request: MESSAGE`.
    static func denial(_ name: String, status: JSONValue?) -> StatusObject {
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        let message = status?["message"]?.stringValue ?? ""
        let reasonText = status?["reason"]?.stringValue ?? ""
        let text = !message.isEmpty ? "\(deniedBy): \(message)" : !reasonText.isEmpty ? "\(deniedBy): \(reasonText)"
            : "\(deniedBy) without explanation"
        let code = max(status?["code"]?.intValue ?? 400, 400)
        let reason = StatusObject.Reason(rawValue: reasonText) ?? (code == 403 ? .forbidden : .badRequest)
        return StatusObject(code: code, reason: reason, message: text)
    }

    struct WebhookCallFailure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// Where a webhook is called: the address to connect to, and the URL it is known by.
    struct Target {
        var address: SocketAddress
        var url: String
        var path: String
    }

    func send(_ review: JSONValue, uid: String, webhook: some AdmissionWebhook) async throws(WebhookCallFailure)
        -> AdmissionReview.Verdict
    {
        let timeout = Int(webhook.timeoutSeconds ?? 10)
        let target = try resolve(webhook.clientConfig)
        let query = "timeout=\(timeout)s"
        let requestTarget = target.path + (target.path.contains("?") ? "&" : "?") + query
        let urlText = "\(target.url)?\(query)"
        let response: HTTPResponse
        do {
            let stream = try await SocketConnection.connect(to: target.address, timeout: .seconds(timeout),
                                                            on: EventLoopGroup.shared.next())
            let connection = HTTPClientConnection(stream: stream, configuration: HTTPClientConfiguration(
                limits: HTTPParserLimits(maxBodyBytes: 3 << 20), readTimeout: .seconds(timeout), writeTimeout: .seconds(timeout)))
            let request = HTTPRequest(
                method: .post, target: requestTarget,
                headers: ["Content-Type": "application/json", "Accept": "application/json", "Connection": "close",
                          "Host": Self.host(of: target.url)],
                body: review.serializedBytes())
            do {
                response = try await connection.send(request)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        } catch {
            throw WebhookCallFailure("failed to call webhook: Post \"\(urlText)\": \(Self.dialError(error, target.address))")
        }
        guard response.status.code == 200 else {
            throw WebhookCallFailure("failed to call webhook: the server responded with the status code \(response.status.code) but did not return an AdmissionReview: \(response.bodyText.prefix(200))")
        }
        do throws(AdmissionReviewError) {
            let body: JSONValue
            do {
                body = try JSONValue(parsing: response.body)
            } catch {
                throw AdmissionReviewError("the response is not JSON: \(error)")
            }
            return try AdmissionReview.verdict(body, uid: uid)
        } catch {
            throw WebhookCallFailure("received invalid webhook response: \(error.message)")
        }
    }

    /// `clientConfig.url` (http:// only for now) or `clientConfig.service`,
    /// resolved to one of the Service's endpoints through its port's name.
    func resolve(_ config: WebhookClientConfig) throws(WebhookCallFailure) -> Target {
        if let url = config.url {
            return try Self.target(url: url)
        }
        guard let service = config.service else { throw WebhookCallFailure("clientConfig names neither url nor service") }
        let port = Int(service.port ?? 443)
        let path = service.path.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let url = "http://\(service.name).\(service.namespace).svc:\(port)\(path)"
        let key = ObjectKey(GroupResource(resource: "services"), namespace: service.namespace, name: service.name)
        guard let object = try? store.get(key), let serviceObject = try? ResourceCodec.decode(Service.self, from: object) else {
            throw WebhookCallFailure("failed to call webhook: Post \"\(url)\": service \"\(service.name)\" not found")
        }
        guard let servicePort = (serviceObject.spec.ports ?? []).first(where: { Int($0.port) == port }) else {
            throw WebhookCallFailure("failed to call webhook: Post \"\(url)\": no service port \(port) found for service \"\(service.name)\"")
        }
        let endpointsKey = ObjectKey(GroupResource(resource: "endpoints"), namespace: service.namespace, name: service.name)
        let subsets = (try? store.get(endpointsKey))?["subsets"]?.arrayValue ?? []
        for subset in subsets {
            let ports = subset["ports"]?.arrayValue ?? []
            let wanted = servicePort.name ?? ""
            let endpointPort = ports.first { ($0["name"]?.stringValue ?? "") == wanted } ?? (ports.count == 1 ? ports.first : nil)
            guard let number = endpointPort?["port"]?.intValue, (1...65535).contains(number) else { continue }
            for address in subset["addresses"]?.arrayValue ?? [] {
                if let ip = address["ip"]?.stringValue, let parsed = IPv4Address(ip) {
                    return Target(address: .ipv4(parsed, port: UInt16(number)), url: url, path: path)
                }
            }
        }
        throw WebhookCallFailure("failed to call webhook: Post \"\(url)\": no endpoints available for service \"\(service.name)\"")
    }

    /// An `http://host:port/path` URL with an IPv4 address or `localhost`.
    static func target(url: String) throws(WebhookCallFailure) -> Target {
        let failure = { (why: String) in WebhookCallFailure("failed to call webhook: Post \"\(url)\": \(why)") }
        if url.lowercased().hasPrefix("https://") {
            throw failure("TLS webhooks arrive with MeshTLS: meshlab calls webhooks over http:// for now")
        }
        guard url.lowercased().hasPrefix("http://") else { throw failure("unsupported protocol scheme") }
        let rest = url.dropFirst("http://".count)
        let authority = String(rest.prefix { $0 != "/" })
        let path = rest.dropFirst(authority.count)
        var host = authority
        var port = 80
        if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw failure("invalid port in \"\(authority)\"")
            }
            port = number
        }
        if host == "localhost" { host = "127.0.0.1" }
        guard let address = IPv4Address(host) else {
            throw failure("meshlab calls webhook URLs by IPv4 address (or localhost), not \"\(host)\": use clientConfig.service for names")
        }
        return Target(address: .ipv4(address, port: UInt16(port)), url: url, path: path.isEmpty ? "/" : String(path))
    }

    static func host(of url: String) -> String {
        let rest = url.split(separator: "://", maxSplits: 1).last.map(String.init) ?? url
        return String(rest.prefix { $0 != "/" })
    }

    /// Go's wording for the common dial failures (`dial tcp 10.44.0.1:15017: connect: connection refused`).
    static func dialError(_ error: any Error, _ address: SocketAddress) -> String {
        if let system = error as? SystemError, system.errno == ECONNREFUSED {
            return "dial tcp \(address): connect: connection refused"
        }
        if case IOError.timedOut = error { return "context deadline exceeded" }
        return "\(error)"
    }

    /// A random (version 4) UUID for `request.uid`.
    static func newUID() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}

/// An Event (core/v1): something that happened to an object, as controllers
/// and the node agent report it (`Scaled up ... to 3`, `Created pod: x`,
/// `Back-off restarting failed container`). `kubectl get events` and
/// `describe` read them; repeats of the same event raise `count` instead of
/// making new objects.
public struct Event: Resource {
    public static let descriptor = ResourceDescriptor(
        group: "", versions: ["v1"], kind: "Event", plural: "events", shortNames: ["ev"], hasStatus: false)

    /// `type` of an event that is worth a look but not a failure.
    public static let normal = "Normal"
    /// `type` of an event that says something went wrong.
    public static let warning = "Warning"

    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var source: EventSource?
    /// RFC 3339, whole seconds: when the first of the aggregated occurrences happened.
    public var firstTimestamp: String?
    /// When the latest happened.
    public var lastTimestamp: String?
    public var count: Int32?
    /// `Normal` or `Warning`.
    public var type: String?
    /// The events.k8s.io form's time with microseconds; legacy recorders leave it null.
    public var eventTime: String?
    public var series: EventSeries?
    public var action: String?
    public var related: ObjectReference?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference) {
        self.metadata = metadata
        self.involvedObject = involvedObject
    }

    public struct EventSource: Codable, Sendable, Hashable {
        public var component: String?
        public var host: String?

        public init(component: String? = nil, host: String? = nil) {
            self.component = component
            self.host = host
        }
    }

    public struct EventSeries: Codable, Sendable, Hashable {
        public var count: Int32?
        public var lastObservedTime: String?
    }

    /// The apiserver's legacy event validation: the event lives in the
    /// namespace of the object it is about ("default" or none for
    /// cluster-scoped objects).
    public func validate(at path: FieldPath, _ validation: inout Validation) {
        let namespace = metadata.namespace ?? ""
        let objectNamespace = involvedObject.namespace ?? ""
        let matches = objectNamespace.isEmpty ? (namespace.isEmpty || namespace == "default") : namespace == objectNamespace
        if eventTime == nil && !matches {
            validation.add(.invalid(path.appending("involvedObject").appending("namespace"),
                                    value: .string(objectNamespace), "does not match event.namespace"))
        }
    }
}

extension Event {
    /// A new Event about `object` (any stored object), as client-go's
    /// recorder makes one: named `<object name>.<hex nanoseconds>`, in the
    /// object's namespace ("default" for cluster-scoped objects), count 1.
    /// `sequence` tells apart events made within the same second.
    public static func about(_ object: JSONValue, type: String = Event.normal, reason: String, message: String,
                             component: String, host: String? = nil, time: Int, sequence: Int = 0) -> JSONValue
    {
        let metadata = object["metadata"]
        var involved = JSONObject()
        for (field, value) in [("kind", object["kind"]), ("namespace", metadata?["namespace"]), ("name", metadata?["name"]),
                               ("uid", metadata?["uid"]), ("apiVersion", object["apiVersion"]),
                               ("resourceVersion", metadata?["resourceVersion"])] {
            if let value, value != .string("") { involved[field] = value }
        }
        let namespace = metadata?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let nanoseconds = UInt64(max(0, time)) &* 1_000_000_000 &+ UInt64(max(0, sequence) % 1_000_000_000)
        let name = "\(metadata?["name"]?.stringValue ?? "unknown").\(String(nanoseconds, radix: 16))"
        let stamp = JSONValue.string(Timestamp.format(epochSeconds: time))
        var source: JSONObject = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        return [
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved), "reason": .string(reason), "message": .string(message),
            "source": .object(source), "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": .string(type),
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? ""),
        ]
    }

    /// What makes two events one occurrence repeated (client-go's
    /// getEventKey): source, involved object, type, reason and message.
    public static func aggregationKey(_ event: JSONValue) -> String {
        let involved = event["involvedObject"]
        let parts = [event["source"]?["component"], event["source"]?["host"], involved?["kind"], involved?["namespace"],
                     involved?["name"], involved?["fieldPath"], involved?["uid"], involved?["apiVersion"], event["type"],
                     event["reason"], event["message"]]
        return parts.map { $0?.stringValue ?? "" }.joined(separator: "\u{0}")
    }
}

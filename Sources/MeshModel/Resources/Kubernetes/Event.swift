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

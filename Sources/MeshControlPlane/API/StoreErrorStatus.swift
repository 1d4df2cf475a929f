import MeshModel

extension StatusObject {
    /// The Status the apiserver would send for a store failure.
    init(_ error: StoreError, descriptor: ResourceDescriptor?) {
        let group = descriptor.flatMap { $0.group.isEmpty ? nil : $0.group }
        switch error {
        case .notFound(let resource, let name):
            self.init(code: 404, reason: .notFound, message: error.description, kind: resource.resource,
                      group: resource.group.isEmpty ? nil : resource.group, name: name)
        case .alreadyExists(let resource, let name):
            self.init(code: 409, reason: .alreadyExists, message: error.description, kind: resource.resource,
                      group: resource.group.isEmpty ? nil : resource.group, name: name)
        case .conflict(let resource, let name, _, _):
            self.init(code: 409, reason: .conflict, message: error.description, kind: resource.resource,
                      group: resource.group.isEmpty ? nil : resource.group, name: name)
        case .invalid(_, let name, let errors):
            if let descriptor {
                self = .invalid(descriptor, name: name, errors: errors)
            } else {
                self.init(code: 422, reason: .invalid, message: error.description, name: name)
            }
        case .badResourceVersion:
            self.init(code: 400, reason: .badRequest, message: error.description, group: group)
        case .expired:
            self.init(code: 410, reason: .expired, message: error.description)
        case .watchOverflow:
            self.init(code: 410, reason: .gone, message: error.description)
        case .locked, .corrupt, .io, .unavailable:
            self.init(code: 503, reason: .serviceUnavailable, message: error.description)
        }
    }
}

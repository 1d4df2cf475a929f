import MeshModel

/// A Service's ClusterIP: allocated on create (or checked, when the Service
/// asks for one), kept by updates that leave it out, immutable, released on
/// delete. Single-stack IPv4, as the lab's network is.
struct ServiceStrategy: ResourceStrategy {
    let allocator: ClusterIPAllocator

    func beforeCreate(_ object: inout JSONValue) throws(StatusObject) {
        try fillAddresses(&object)
    }

    func afterCreate(_ object: JSONValue, stored: Bool) {
        for address in ClusterIPAllocator.addresses(of: object) {
            if stored { allocator.commit(address) } else { allocator.release(address) }
        }
    }

    /// What the apiserver's `patchAllocatedValues`, `normalizeClusterIPs`
    /// and `dropTypeDependentFields` do: an update that omits the allocated
    /// address keeps it (so a PUT of the original manifest works), one that
    /// changes only `clusterIP` is read as changing the first of
    /// `clusterIPs`, and one to ExternalName drops the unchanged address
    /// (released once stored).
    func beforeUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {
        let oldSpec = old["spec"]
        if Self.needsClusterIP(old) && !Self.needsClusterIP(object) {
            for fields in [["clusterIP", "clusterIPs"], ["ipFamilies", "ipFamilyPolicy"]]
            where fields.allSatisfy({ object["spec"]?[$0] == oldSpec?[$0] }) {
                for field in fields { object[path: FieldPath("spec").appending(field)] = nil }
            }
            return
        }
        guard Self.needsClusterIP(object), Self.needsClusterIP(old) else { return }
        if (object[path: "spec.clusterIP"]?.stringValue ?? "").isEmpty, let address = oldSpec?["clusterIP"] {
            object[path: "spec.clusterIP"] = address
        }
        if (object[path: "spec.clusterIPs"]?.arrayValue ?? []).isEmpty, let addresses = oldSpec?["clusterIPs"] {
            object[path: "spec.clusterIPs"] = addresses
        }
        for field in ["ipFamilies", "ipFamilyPolicy"] where object["spec"]?[field] == nil {
            if let value = oldSpec?[field] { object[path: FieldPath("spec").appending(field)] = value }
        }
        let single = object[path: "spec.clusterIP"]
        if single != oldSpec?["clusterIP"], object[path: "spec.clusterIPs"] == oldSpec?["clusterIPs"],
            var addresses = object[path: "spec.clusterIPs"]?.arrayValue, !addresses.isEmpty, let single
        {
            addresses[0] = single
            object[path: "spec.clusterIPs"] = .array(addresses)
        }
    }

    func validateUpdate(_ object: inout JSONValue, old: JSONValue) throws(StatusObject) {
        let new = try typed(MeshModel.Service.self, object)
        let previous = try typed(MeshModel.Service.self, old)
        let errors = new.validateUpdate(from: previous)
        if !errors.isEmpty { throw StatusObject.invalid(MeshModel.Service.descriptor, name: name(of: object), errors: errors) }
        if new.needsClusterIP && (!previous.needsClusterIP || ClusterIPAllocator.addresses(of: object).isEmpty && !new.isHeadless) {
            // From ExternalName, or a Service stored before addresses were allocated.
            try fillAddresses(&object)
        }
    }

    func afterUpdate(_ object: JSONValue, old: JSONValue, stored: Bool) {
        let now = Set(ClusterIPAllocator.addresses(of: object))
        let before = Set(ClusterIPAllocator.addresses(of: old))
        for address in now.subtracting(before) {
            if stored { allocator.commit(address) } else { allocator.release(address) }
        }
        if stored {
            for address in before.subtracting(now) { allocator.release(address) }
        }
    }

    func afterDelete(_ object: JSONValue) {
        for address in ClusterIPAllocator.addresses(of: object) { allocator.release(address) }
    }

    // MARK: Allocation

    static func needsClusterIP(_ object: JSONValue) -> Bool {
        object["spec"]?["type"]?.stringValue != "ExternalName"
    }

    private func name(of object: JSONValue) -> String { object["metadata"]?["name"]?.stringValue ?? "" }

    /// Sets ipFamilies, ipFamilyPolicy, clusterIP and clusterIPs of an
    /// admitted Service that needs an address, taking it from the pool.
    private func fillAddresses(_ object: inout JSONValue) throws(StatusObject) {
        guard Self.needsClusterIP(object) else { return }
        let descriptor = MeshModel.Service.descriptor
        let families = object[path: "spec.ipFamilies"]?.arrayValue ?? []
        for (i, family) in families.enumerated() where family != "IPv4" {
            throw StatusObject.invalid(descriptor, name: name(of: object), errors: [
                .invalid(FieldPath("spec.ipFamilies").appending(index: i), value: family, "not configured on this cluster"),
            ])
        }
        if families.isEmpty { object[path: "spec.ipFamilies"] = ["IPv4"] }
        if object[path: "spec.ipFamilyPolicy"] == nil { object[path: "spec.ipFamilyPolicy"] = "SingleStack" }

        let single = object[path: "spec.clusterIP"]?.stringValue ?? ""
        let requested = (object[path: "spec.clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        if requested.count > 1 {
            throw StatusObject.invalid(descriptor, name: name(of: object), errors: [
                .invalid("spec.clusterIPs", rendered: goStrings(requested),
                         "this cluster is single-stack IPv4: give at most one address"),
            ])
        }
        let wanted = requested.first ?? single
        if wanted == "None" {
            object[path: "spec.clusterIP"] = "None"
            object[path: "spec.clusterIPs"] = ["None"]
            return
        }
        let address: String
        do throws(ClusterIPAllocator.Failure) {
            if wanted.isEmpty {
                address = try allocator.allocate()
            } else {
                try allocator.allocate(requested: wanted)
                address = wanted
            }
        } catch {
            let reason: String
            switch error {
            case .full:
                throw StatusObject.internalError("failed to allocate a serviceIP: range is full")
            case .notInRange(let ip):
                reason = "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(allocator.cidr)"
            case .allocated:
                reason = "provided IP is already allocated"
            }
            throw StatusObject.invalid(descriptor, name: name(of: object), errors: [
                .invalid("spec.clusterIPs", rendered: goStrings(requested.isEmpty ? [wanted] : requested),
                         "failed to allocate IP \(wanted): \(reason)"),
            ])
        }
        object[path: "spec.clusterIP"] = .string(address)
        object[path: "spec.clusterIPs"] = [.string(address)]
    }

    /// Go's `%#v` of a `[]string`.
    private func goStrings(_ values: [String]) -> String {
        "[]string{" + values.map { Diagnostic.quoted(.string($0)) }.joined(separator: ", ") + "}"
    }
}

extension Diagnostic {
    /// `Invalid value: <rendered>: <detail>`, the value already in Go's syntax.
    static func invalid(_ path: FieldPath, rendered: String, _ detail: String) -> Diagnostic {
        Diagnostic(.error, at: path, "Invalid value: \(rendered): \(detail)")
    }
}

extension ResourceRegistry {
    /// The Kubernetes kinds meshlab serves.
    static let kubernetesResources: [RegisteredResource] = [
        RegisteredResource(Namespace.self),
        RegisteredResource(Pod.self),
        RegisteredResource(Service.self),
        RegisteredResource(ServiceAccount.self),
        RegisteredResource(Endpoints.self),
        RegisteredResource(ConfigMap.self),
        RegisteredResource(Event.self),
        RegisteredResource(Deployment.self),
        RegisteredResource(MutatingWebhookConfiguration.self),
        RegisteredResource(ValidatingWebhookConfiguration.self),
    ]
}

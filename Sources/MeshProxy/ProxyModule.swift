// MeshProxy: the sidecar (`meshlab proxy`), Envoy's role with Istio's ports.
// It imports MeshModel for its configuration (MeshModel/Push: listeners,
// routes, clusters, endpoints and the push messages) and never the control
// plane: everything it knows arrives over the push stream.

// The Kubernetes-style REST API lives here (issue 2 §6).

import MeshCLI

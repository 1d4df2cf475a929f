// swift-tools-version:6.1
// meshlab: one binary, no SwiftPM dependencies. Only the toolchain and the
// system's OpenSSL (libssl-dev, through the COpenSSL system-library target).
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "meshlab",
    products: [
        .executable(name: "meshlab", targets: ["meshlab"]),
        .executable(name: "meshlab-bench", targets: ["MeshBench"]),
    ],
    targets: [
        // C shims: OpenSSL headers and link flags, plus the glibc items Swift lacks.
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Layers, lowest first. Imports go downward only.
        .target(name: "MeshSystem", dependencies: ["COpenSSL"], swiftSettings: strict),
        .target(name: "MeshIO", dependencies: ["MeshSystem"], swiftSettings: strict),
        .target(name: "MeshHTTP", dependencies: ["MeshIO"], swiftSettings: strict),
        .target(name: "MeshModel", swiftSettings: strict),
        // The Kubernetes API client, shared by the CLI and the node agent.
        .target(name: "MeshClient", dependencies: ["MeshModel", "MeshHTTP", "MeshIO"], swiftSettings: strict),
        // Application modules: never import each other.
        .target(
            name: "MeshControlPlane",
            dependencies: ["MeshModel", "MeshHTTP", "MeshIO", "MeshSystem"],
            swiftSettings: strict
        ),
        // The node agent: pod sandboxes (netns, links, IPs, service rules) and processes.
        .target(name: "MeshPod", dependencies: ["MeshClient", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem"], swiftSettings: strict),
        // The sidecar: capture listeners, HTTP/TCP proxying, routing, retries, admin; config from the push stream.
        .target(name: "MeshProxy", dependencies: ["MeshModel", "MeshHTTP", "MeshIO", "MeshSystem"], swiftSettings: strict),
        // Built-in sample apps and the load generator.
        .target(name: "MeshApps", dependencies: ["MeshModel", "MeshHTTP", "MeshIO", "MeshSystem"], swiftSettings: strict),
        // Commands and wiring.
        .target(
            name: "MeshCLI",
            dependencies: [
                "MeshControlPlane", "MeshPod", "MeshProxy", "MeshApps", "MeshClient", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem",
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "meshlab", dependencies: ["MeshCLI"], swiftSettings: strict),
        .executableTarget(
            name: "MeshBench",
            dependencies: ["MeshClient", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem"],
            swiftSettings: strict
        ),
        // Shared test helpers: in-memory channel, manual clock, golden files.
        .target(
            name: "MeshTestSupport",
            dependencies: ["MeshIO", "MeshModel", "MeshSystem"],
            swiftSettings: strict
        ),
        .testTarget(name: "MeshSystemTests", dependencies: ["MeshSystem", "MeshTestSupport"], swiftSettings: strict),
        .testTarget(name: "MeshIOTests", dependencies: ["MeshIO", "MeshSystem", "MeshTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "MeshHTTPTests",
            dependencies: ["MeshHTTP", "MeshIO", "MeshSystem", "MeshTestSupport"], exclude: ["Testdata"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MeshModelTests", dependencies: ["MeshModel", "MeshTestSupport"], exclude: ["Testdata"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MeshControlPlaneTests",
            // MeshProxy: the push tests run meshd's server against the sidecar's real client.
            dependencies: ["MeshControlPlane", "MeshProxy", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem", "MeshTestSupport"],
            exclude: ["Testdata"], swiftSettings: strict
        ),
        .testTarget(
            name: "MeshPodTests",
            // MeshControlPlane: the node agent's tests run it against the real API server, in process.
            dependencies: ["MeshPod", "MeshClient", "MeshControlPlane", "MeshModel", "MeshIO", "MeshSystem", "MeshTestSupport"],
            exclude: ["Testdata"], swiftSettings: strict
        ),
        .testTarget(
            name: "MeshProxyTests",
            dependencies: ["MeshProxy", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem", "MeshTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MeshAppsTests",
            dependencies: ["MeshApps", "MeshHTTP", "MeshIO", "MeshModel", "MeshSystem", "MeshTestSupport"],
            exclude: ["Testdata"], swiftSettings: strict
        ),
        .testTarget(
            name: "MeshCLITests",
            dependencies: [
                "MeshCLI", "MeshClient", "MeshControlPlane", "MeshModel", "MeshHTTP", "MeshIO", "MeshSystem",
                "MeshTestSupport",
            ],
            exclude: ["Testdata"],
            swiftSettings: strict
        ),
    ]
)

import MeshHTTP
import Testing
@testable import MeshApps

@Suite struct HelloworldTests {
    @Test func helloNamesVersionAndPod() async throws {
        let app = HelloworldApp(imageVersion: "v2", environment: AppEnvironment(["HOSTNAME": "helloworld-v2-6746879bdd-zp8hz"]))
        try await withServedApp(app) { port in
            let hello = try await send(port, .get, "/hello")
            #expect(hello.status == .ok)
            #expect(hello.bodyText == "Hello version: v2, instance: helloworld-v2-6746879bdd-zp8hz\n")
            #expect(hello.headers["x-app-version"] == "helloworld-v2")
            let health = try await send(port, .get, "/health")
            #expect(health.bodyText == "Helloworld is healthy")
            #expect(try await send(port, .get, "/other").status == .notFound)
            #expect(try await send(port, .post, "/hello").status == .methodNotAllowed)
        }
    }

    @Test func serviceVersionFromTheContainerWinsOverTheImage() {
        let app = HelloworldApp(imageVersion: "v1", environment: AppEnvironment(["SERVICE_VERSION": "v9", "HOSTNAME": "h"]))
        #expect(app.version == "v9")
    }

    @Test func podNameFallsBackToTheKernelsHostName() {
        #expect(AppEnvironment([:], kernelHostname: { "pod-a" }).podName == "pod-a")
        #expect(AppEnvironment(["POD_NAME": "pod-b"], kernelHostname: { "x" }).podName == "pod-b")
        #expect(AppEnvironment(["HOSTNAME": ""], kernelHostname: { nil }).podName == "unknown")
    }

    @Test func accessLogHasOneLinePerRequest() async throws {
        let lines = LogLines()
        let app = HelloworldApp(version: "v1", instance: "h")
        try await withServedApp(app, log: lines.log) { port in
            _ = try await send(port, .get, "/hello", headers: ["user-agent": "test-agent"])
            _ = try await send(port, .get, "/nope")
        }
        let log = lines.all
        #expect(log.count == 2)
        #expect(log[0].contains("\"GET /hello HTTP/1.1\" 200 31 "))
        #expect(log[0].hasSuffix("\"test-agent\""))
        #expect(log[0].contains(" 127.0.0.1:"))
        #expect(log[1].contains("\"GET /nope HTTP/1.1\" 404 "))
    }
}

import Glibc
import MeshSystem
import MeshTestSupport
import Testing

/// The real capture path: curl to a ClusterIP in a fresh netns, an iptables REDIRECT to
/// 15001, and `meshlab proxy` finding the service by SO_ORIGINAL_DST.
@Suite struct OriginalDestinationRootTests {
    static let skipReason: String? = {
        guard CurrentProcess.effectiveUserID == 0 else { return "needs root (netns and iptables)" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/bin/curl"] where access(tool, X_OK) != 0 {
            return "needs \(tool)"
        }
        guard (try? MeshlabProcess.binary()) != nil else { return "no meshlab binary (swift build)" }
        return nil
    }()

    @Test(.enabled(if: skipReason == nil, "\(skipReason ?? "")"))
    func redirectedConnectionReachesTheServiceListener() throws {
        let scratch = try Files.makeTemporaryDirectory(prefix: "meshlab-proxy-root")
        defer { try? Files.removeTree(scratch) }
        let path = scratch + "/redirect-capture.sh"
        try Files.writeAtomically(path, Array(Self.script.utf8))
        var spawn = SpawnConfiguration(executable: "/usr/bin/timeout",
                                       arguments: ["60", "/bin/sh", path, try MeshlabProcess.binary()])
        spawn.standardInput = .null
        spawn.standardOutput = .file(scratch + "/out")
        spawn.standardError = .file(scratch + "/out")
        let status = try ChildProcess.spawn(spawn).wait()
        let output = String(decoding: (try? Files.read(scratch + "/out")) ?? [], as: UTF8.self)
        #expect(status.isSuccess, "\(output)")
        #expect(output.contains("\"X-Request-Id\""), "\(output)")
        #expect(output.contains("\"GET /headers HTTP/1.1\" 200 - via_upstream"), "\(output)")
        #expect(output.contains(" 10.96.0.50:80 "), "the original destination, from SO_ORIGINAL_DST: \(output)")
    }

    /// Sets up the namespace, the REDIRECT rule, an httpbin and the sidecar, curls the
    /// ClusterIP and prints the answer and the sidecar's log; a trap removes everything.
    static let script = #"""
# Root only: the sidecar behind a real iptables REDIRECT in a network namespace of its own,
# so SO_ORIGINAL_DST (not the injected stand-in) picks the listener. Removes what it made.
set -u
M="$1"; NS="mlproxy$$"; DIR=$(mktemp -d)
cleanup() { kill $(cat "$DIR"/*.pid 2>/dev/null) 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
ip netns add "$NS" || exit 3
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add 10.96.0.50/32 dev lo
ip netns exec "$NS" iptables -t nat -A OUTPUT -p tcp -d 10.96.0.50 --dport 80 -j REDIRECT --to-ports 15001 || exit 3
cat > "$DIR/config.yaml" <<YAML
clusters:
- name: outbound|80||svc.default.svc.cluster.local
  direction: OUTBOUND
  discovery: STATIC
  staticEndpoints: [{address: 127.0.0.1, port: 8080, healthy: true}]
listeners:
- name: 0.0.0.0_80
  address: 0.0.0.0
  port: 80
  direction: OUTBOUND
  filterChains:
  - {match: {}, http: {statPrefix: outbound_0.0.0.0_80, routeConfigName: "80"}}
routes:
- name: "80"
  virtualHosts:
  - name: svc
    domains: ["*"]
    routes: [{name: default, match: {prefix: /}, route: {cluster: "outbound|80||svc.default.svc.cluster.local"}}]
YAML
ip netns exec "$NS" "$M" app httpbin --port 8080 --address 127.0.0.1 >"$DIR/app.log" 2>&1 & echo $! > "$DIR/app.pid"
ip netns exec "$NS" "$M" proxy sidecar --config "$DIR/config.yaml" >"$DIR/proxy.log" 2>&1 & echo $! > "$DIR/proxy.pid"
for i in $(seq 50); do ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:15021/healthz/ready && break; sleep 0.1; done
ip netns exec "$NS" curl -s -m 5 -H "Host: svc" http://10.96.0.50/headers
echo
sleep 0.3
cat "$DIR/proxy.log"
"""#
}

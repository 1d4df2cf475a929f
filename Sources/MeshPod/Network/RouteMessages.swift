import MeshModel
import MeshSystem

/// The rtnetlink requests the lab's network needs, built as bytes (pure,
/// golden-tested); `NetlinkSocket` sends them. Each is what the `ip`
/// command in its doc comment sends, without a process per pod.
///
/// Numbers from <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h>,
/// <linux/veth.h> (not importable beside glibc's headers).
public enum RouteMessages {
    static let newLink: UInt16 = 16
    static let deleteLink: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newAddress: UInt16 = 20
    static let newRoute: UInt16 = 24

    static let interfaceUp: UInt32 = 0x1  // IFF_UP

    // IFLA_*
    static let attributeName: UInt16 = 3
    static let attributeMTU: UInt16 = 4
    static let attributeMaster: UInt16 = 10
    static let attributeLinkInfo: UInt16 = 18
    static let attributeNamespaceFD: UInt16 = 28
    static let infoKind: UInt16 = 1
    static let infoData: UInt16 = 2
    static let vethPeer: UInt16 = 1

    // IFA_*, RTA_*
    static let addressAddress: UInt16 = 1
    static let addressLocal: UInt16 = 2
    static let routeOutput: UInt16 = 4
    static let routeGateway: UInt16 = 5

    static let familyIPv4: UInt8 = 2  // AF_INET
    static let create = NetlinkRequest.flagCreate | NetlinkRequest.flagExclusive

    /// `ip link add NAME up type bridge`.
    public static func createBridge(name: String) -> NetlinkRequest {
        var payload = interfaceHeader(index: 0, up: true)
        attribute(attributeName, string: name, to: &payload)
        nest(attributeLinkInfo, to: &payload) { attribute(infoKind, string: "bridge", to: &$0) }
        return NetlinkRequest(type: newLink, flags: create, payload: payload, label: "RTM_NEWLINK bridge \(name)")
    }

    /// `ip link add NAME up master BRIDGE type veth peer name PEER netns POD`:
    /// the pod's end is made directly in its namespace (moving a link
    /// afterwards costs ~40x more), ours up and on the bridge. The peer
    /// cannot be made up in the same request (the kernel configures it
    /// before the pair is joined: ENOTCONN): `setUp` it in its namespace.
    public static func createVethPair(name: String, bridgeIndex: Int32, peerName: String,
                                      peerNamespaceDescriptor: Int32) -> NetlinkRequest {
        var payload = interfaceHeader(index: 0, up: true)
        attribute(attributeName, string: name, to: &payload)
        attribute(attributeMaster, uint32: UInt32(bitPattern: bridgeIndex), to: &payload)
        nest(attributeLinkInfo, to: &payload) { info in
            attribute(infoKind, string: "veth", to: &info)
            nest(infoData, to: &info) { data in
                nest(vethPeer, to: &data) { peer in
                    peer += interfaceHeader(index: 0, up: false)
                    attribute(attributeName, string: peerName, to: &peer)
                    attribute(attributeNamespaceFD, uint32: UInt32(bitPattern: peerNamespaceDescriptor), to: &peer)
                }
            }
        }
        return NetlinkRequest(type: newLink, flags: create, payload: payload,
                              label: "RTM_NEWLINK veth \(name) peer \(peerName)")
    }

    /// `ip link set dev INDEX up`.
    public static func setUp(index: Int32, label: String) -> NetlinkRequest {
        NetlinkRequest(type: newLink, payload: interfaceHeader(index: index, up: true), label: "RTM_NEWLINK \(label) up")
    }

    /// `ip link show NAME`: the answer carries its index.
    public static func getLink(name: String) -> NetlinkRequest {
        var payload = interfaceHeader(index: 0, up: false)
        attribute(attributeName, string: name, to: &payload)
        return NetlinkRequest(type: getLink, payload: payload, label: "RTM_GETLINK \(name)")
    }

    /// `ip link delete NAME` (a veth's peer goes with it).
    public static func deleteLink(name: String) -> NetlinkRequest {
        var payload = interfaceHeader(index: 0, up: false)
        attribute(attributeName, string: name, to: &payload)
        return NetlinkRequest(type: deleteLink, payload: payload, label: "RTM_DELLINK \(name)")
    }

    /// `ip addr add ADDRESS/PREFIX dev INDEX`.
    public static func addAddress(_ address: UInt32, prefixLength: Int, index: Int32, label: String) -> NetlinkRequest {
        var payload: [UInt8] = [familyIPv4, UInt8(prefixLength), 0, 0]  // family, prefixlen, flags, scope universe
        Netlink.append32(UInt32(bitPattern: index), to: &payload)
        attribute(addressLocal, bytes: networkOrder(address), to: &payload)
        attribute(addressAddress, bytes: networkOrder(address), to: &payload)
        return NetlinkRequest(type: newAddress, flags: create, payload: payload,
                              label: "RTM_NEWADDR \(IPv4CIDR.format(address))/\(prefixLength) dev \(label)")
    }

    /// `ip route add default via GATEWAY dev INDEX`.
    public static func addDefaultRoute(via gateway: UInt32, index: Int32, label: String) -> NetlinkRequest {
        // struct rtmsg: family, dst_len 0, src_len, tos, table main (254),
        // protocol boot (3), scope universe (0), type unicast (1), flags.
        var payload: [UInt8] = [familyIPv4, 0, 0, 0, 254, 3, 0, 1]
        Netlink.append32(0, to: &payload)
        attribute(routeGateway, bytes: networkOrder(gateway), to: &payload)
        attribute(routeOutput, uint32: UInt32(bitPattern: index), to: &payload)
        return NetlinkRequest(type: newRoute, flags: create, payload: payload,
                              label: "RTM_NEWROUTE default via \(IPv4CIDR.format(gateway)) dev \(label)")
    }

    /// The interface index in an RTM_NEWLINK answer (its struct ifinfomsg).
    public static func interfaceIndex(in reply: NetlinkReply) -> Int32? {
        guard reply.type == newLink, reply.payload.count >= 16 else { return nil }
        return Int32(bitPattern: Netlink.read32(reply.payload[...], at: 4))
    }

    /// The loopback device is index 1 in every network namespace.
    public static let loopbackIndex: Int32 = 1

    // MARK: Encoding

    /// struct ifinfomsg: family AF_UNSPEC, type, index, flags, change mask.
    static func interfaceHeader(index: Int32, up: Bool) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0]
        Netlink.append32(UInt32(bitPattern: index), to: &bytes)
        Netlink.append32(up ? interfaceUp : 0, to: &bytes)
        Netlink.append32(up ? interfaceUp : 0, to: &bytes)
        return bytes
    }

    static func networkOrder(_ address: UInt32) -> [UInt8] {
        [UInt8(address >> 24), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF), UInt8(address & 0xFF)]
    }

    static func attribute(_ type: UInt16, bytes value: [UInt8], to payload: inout [UInt8]) {
        Netlink.append16(UInt16(4 + value.count), to: &payload)
        Netlink.append16(type, to: &payload)
        payload += value
        while payload.count % 4 != 0 { payload.append(0) }
    }

    static func attribute(_ type: UInt16, string: String, to payload: inout [UInt8]) {
        attribute(type, bytes: Array(string.utf8) + [0], to: &payload)
    }

    static func attribute(_ type: UInt16, uint32 value: UInt32, to payload: inout [UInt8]) {
        var bytes: [UInt8] = []
        Netlink.append32(value, to: &bytes)
        attribute(type, bytes: bytes, to: &payload)
    }

    /// A nested attribute. Without NLA_F_NESTED, as iproute2 sends them:
    /// veth's peer is an ifinfomsg, not a nest, under the strict parser.
    static func nest(_ type: UInt16, to payload: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        var inner: [UInt8] = []
        body(&inner)
        attribute(type, bytes: inner, to: &payload)
    }

    /// A readable dump of a request, for golden files: its label, type and
    /// flags, then the payload as hex, four bytes a group, sixteen a line.
    public static func describe(_ request: NetlinkRequest) -> String {
        var lines = ["# \(request.label)", "type \(request.type) flags 0x\(String(request.flags, radix: 16))"]
        let hex = request.payload.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        for start in stride(from: 0, to: hex.count, by: 16) {
            let row = hex[start..<min(start + 16, hex.count)]
            lines.append(stride(from: row.startIndex, to: row.endIndex, by: 4).map {
                row[$0..<min($0 + 4, row.endIndex)].joined()
            }.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

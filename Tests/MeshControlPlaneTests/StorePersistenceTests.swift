import Foundation
@testable import MeshControlPlane
import MeshModel
import Testing

@Suite struct StoreRecordFormatTests {
    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func recordsRoundTrip() throws {
        let key = ObjectKey(virtualServicesResource, namespace: "prod", name: "reviews")
        let records: [LogRecord] = [
            .put(revision: 7, key: key, object: pod("reviews").with(metadata: "labels", ["é": "😀"])),
            .delete(revision: 8, key: ObjectKey(.namespaces, name: "prod")),
            .snapshotHeader(revision: 9, objectCount: 12),
        ]
        var bytes: [UInt8] = []
        for record in records { record.encode(into: &bytes) }
        var decoded: [LogRecord] = []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while case .record(let record, let next) = LogRecord.scan(raw, at: offset) {
                decoded.append(record)
                offset = next
            }
            #expect(LogRecord.scan(raw, at: offset) == .end)
        }
        #expect(decoded == records)
    }

    @Test func damagedFramesSayWhy() {
        let frame = LogRecord.delete(revision: 1, key: ObjectKey(podsResource, namespace: "a", name: "b")).encoded
        func scan(_ bytes: [UInt8]) -> LogRecord.Scan { bytes.withUnsafeBytes { LogRecord.scan($0, at: 0) } }
        #expect(scan(Array(frame.prefix(5))) == .damaged(reason: "truncated frame header (5 of 8 bytes)", frameEnd: nil))
        #expect(scan(Array(frame.dropLast())) == .damaged(reason: "truncated frame (\(frame.count - 9) of \(frame.count - 8) payload bytes)", frameEnd: nil))
        #expect(scan([UInt8](repeating: 0, count: 16)) == .damaged(reason: "frame with length 0", frameEnd: nil))
        #expect(scan([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]) == .damaged(reason: "frame length 4294967295 exceeds the limit of 67108864", frameEnd: nil))
        var flipped = frame
        flipped[12] ^= 0x01
        #expect(scan(flipped) == .damaged(reason: "checksum mismatch", frameEnd: frame.count))
    }
}

@Suite struct StorePersistenceTests {
    let resources = [podsResource, deploymentsResource, virtualServicesResource, .namespaces]

    @Test func reopeningRestoresObjectsAndTheRevisionCounter() throws {
        try withTemporaryDirectory { dir in
            let log = LogLines()
            let before: [JSONValue]
            do {
                let store = try ResourceStore(directory: dir, options: testOptions(log: log))
                try store.create(.namespaces, namespace("prod"))
                try store.create(podsResource, pod("web", namespace: "prod", labels: ["app": "web"]))
                let db = try store.create(podsResource, pod("db", namespace: "prod"))
                try store.update(podsResource, db.with("status", ["phase": "Running"]))
                try store.create(virtualServicesResource, pod("reviews", namespace: "prod").with("spec", ["hosts": ["reviews"], "weight": 2.5]))
                try store.create(deploymentsResource, pod("gone", namespace: "prod"))
                try store.delete(ObjectKey(deploymentsResource, namespace: "prod", name: "gone"))
                #expect(store.resourceVersion == "7")
                before = dump(store, resources)
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions(log: log))
            #expect(dump(store, resources) == before)
            #expect(store.resourceVersion == "7")
            #expect(store.recovery == StoreRecovery(replayedRecords: 7, revision: 7))
            #expect(log.all.last == "store: loaded 0 objects from the snapshot at revision 0, replayed 7 log records, now at revision 7")
            let next = try store.create(podsResource, pod("new", namespace: "prod"))
            #expect(next.resourceVersion == "8")
            #expect(next["metadata"]?["uid"] != before.first?["metadata"]?["uid"])
            store.close()
        }
    }

    @Test func theRevisionNeverGoesBackEvenWhenEverythingIsDeleted() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                for i in 0..<5 { try store.create(podsResource, pod("p\(i)")) }
                for i in 0..<5 { try store.delete(ObjectKey(podsResource, namespace: "default", name: "p\(i)")) }
                try store.compact()
                #expect(try segmentFiles(dir).count == 1)
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions())
            #expect(store.resourceVersion == "10")
            #expect(store.recovery.snapshotRevision == 10)
            #expect(try store.create(podsResource, pod("p"))["metadata"]?["resourceVersion"] == "11")
            store.close()
        }
    }

    @Test func watchesResumeAcrossARestartFromTheReplayedLog() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                for i in 0..<4 { try store.create(podsResource, pod("p\(i)")) }
                try store.compact()  // snapshot at 4
                try store.create(podsResource, pod("p4"))
                try store.delete(ObjectKey(podsResource, namespace: "default", name: "p0"))
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions())
            var events = try store.watch(podsResource, resourceVersion: "4").makeAsyncIterator()
            #expect(try await events.next()?.description == "ADDED default/p4@5")
            #expect(try await events.next()?.description == "DELETED default/p0@6")
            #expect(throws: StoreError.expired(requested: 3, oldest: 4)) { try store.watch(podsResource, resourceVersion: "3") }
            store.close()
        }
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() throws {
        try withTemporaryDirectory { dir in
            let store = try ResourceStore(directory: dir, options: testOptions())
            let error = #expect(throws: StoreError.self) {
                try ResourceStore(directory: dir, options: testOptions { $0.lockWaitMilliseconds = 50 })
            }
            #expect(error == .locked(directory: dir, holder: "pid \(getpid())"))
            store.close()
            try ResourceStore(directory: dir, options: testOptions()).close()
        }
    }

    /// Cuts the newest segment at every byte offset inside its last record:
    /// each time the earlier records survive, the cut record is gone and
    /// reported, and the repaired log takes new writes that survive too.
    @Test func aTornTailIsDroppedAtEveryOffsetOfTheLastRecord() throws {
        try withTemporaryDirectory { dir in
            let log = LogLines()
            let kept: [JSONValue]
            let intactSize: Int
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                try store.create(podsResource, pod("a"))
                try store.create(podsResource, pod("b", labels: ["x": "y"]))
                kept = dump(store, resources)
                intactSize = fileBytes(try segmentFiles(dir)[0]).count
                try store.create(podsResource, pod("last", image: String(repeating: "i", count: 200)))
                store.close()
            }
            let segment = try segmentFiles(dir)[0]
            let full = fileBytes(segment)
            #expect(full.count > intactSize + 200)

            for cut in intactSize..<full.count {
                try writeFile(segment, Array(full[..<cut]))
                let store = try ResourceStore(directory: dir, options: testOptions(log: log))
                #expect(dump(store, resources) == kept, "cut at \(cut)")
                #expect(store.resourceVersion == "2")
                if cut == intactSize {
                    #expect(store.recovery.droppedTail == nil)
                } else {
                    #expect(store.recovery.droppedTail?.offset == intactSize, "cut at \(cut)")
                    #expect(store.recovery.droppedTail?.bytes == cut - intactSize)
                    #expect(log.all.last?.contains("dropped a damaged tail of \(cut - intactSize) bytes at byte \(intactSize)") == true)
                }
                #expect(fileBytes(segment).count == intactSize, "the tail was cut off on disk")
                store.close()
            }

            // After a repair the log takes writes again and they read back.
            try writeFile(segment, Array(full[..<(intactSize + 17)]))
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                try store.create(podsResource, pod("after"))
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions())
            #expect(store.list(podsResource).items.map(\.name) == ["a", "after", "b"])
            #expect(store.resourceVersion == "3")
            #expect(store.recovery.droppedTail == nil)
            store.close()
        }
    }

    @Test func aFlippedByteInTheLastRecordIsCaughtByTheChecksum() throws {
        try withTemporaryDirectory { dir in
            let intactSize: Int
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                try store.create(podsResource, pod("a"))
                intactSize = fileBytes(try segmentFiles(dir)[0]).count
                try store.create(podsResource, pod("b"))
                store.close()
            }
            let segment = try segmentFiles(dir)[0]
            let full = fileBytes(segment)
            // Every byte of the last frame: length, checksum and payload.
            for position in intactSize..<full.count {
                var damaged = full
                damaged[position] ^= 0x20
                try writeFile(segment, damaged)
                let store = try ResourceStore(directory: dir, options: testOptions())
                #expect(store.list(podsResource).items.map(\.name) == ["a"], "flip at \(position)")
                #expect(store.recovery.droppedTail?.offset == intactSize)
                if position >= intactSize + 8 {
                    #expect(store.recovery.droppedTail?.reason == "checksum mismatch")
                }
                store.close()
            }
        }
    }

    @Test func damageBeforeIntactRecordsIsRefusedNotDropped() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                for name in ["a", "b", "c"] { try store.create(podsResource, pod(name)) }
                store.close()
            }
            let segment = try segmentFiles(dir)[0]
            var bytes = fileBytes(segment)
            bytes[8 + 8 + 20] ^= 0x01  // inside the first record's payload
            try writeFile(segment, bytes)
            let error = #expect(throws: StoreError.self) { try ResourceStore(directory: dir, options: testOptions()) }
            #expect(error == .corrupt(file: segment, offset: 8, reason: "checksum mismatch"))
            #expect(fileBytes(segment) == bytes, "nothing was cut")
        }
    }

    /// Seeded random damage anywhere in a segment: opening either works
    /// (having cut a tail) or fails with a StoreError; it never traps.
    @Test func randomDamageNeverCrashesRecovery() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                for i in 0..<6 { try store.create(podsResource, pod("p\(i)", labels: ["i": "\(i)"])) }
                store.close()
            }
            let segment = try segmentFiles(dir)[0]
            let original = fileBytes(segment)
            var seed: UInt64 = 0x51DE
            func random(_ bound: Int) -> Int {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Int((seed >> 33) % UInt64(bound))
            }
            var opened = 0
            var refused = 0
            for _ in 0..<300 {
                var damaged = original
                for _ in 0..<(1 + random(3)) { damaged[random(damaged.count)] = UInt8(random(256)) }
                if random(4) == 0 { damaged = Array(damaged.prefix(random(damaged.count))) }
                try writeFile(segment, damaged)
                do {
                    let store = try ResourceStore(directory: dir, options: testOptions())
                    #expect(store.stats().objects <= 6)
                    store.close()
                    opened += 1
                } catch {
                    refused += 1
                }
            }
            #expect(opened > 0 && refused > 0)
        }
    }

    @Test func aTornSegmentHeaderIsRepaired() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                try store.create(podsResource, pod("a"))
                store.close()
            }
            // A crash while switching to a new segment leaves a partial header.
            try writeFile(dir + "/wal-0000000000000002.log", Array("MESH".utf8))
            let store = try ResourceStore(directory: dir, options: testOptions())
            #expect(store.list(podsResource).items.map(\.name) == ["a"])
            #expect(store.recovery.droppedTail?.reason == "torn segment header")
            try store.create(podsResource, pod("b"))
            store.close()
            let reopened = try ResourceStore(directory: dir, options: testOptions())
            #expect(reopened.list(podsResource).items.map(\.name) == ["a", "b"])
            reopened.close()
        }
    }

    @Test func aMissingSegmentIsDetected() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                try store.create(podsResource, pod("a"))
                store.close()
            }
            // A second segment whose first record skips revisions 2...4.
            var bytes = LogRecord.logMagic
            LogRecord.put(revision: 5, key: ObjectKey(podsResource, namespace: "default", name: "x"), object: pod("x"))
                .encode(into: &bytes)
            try writeFile(dir + "/wal-0000000000000002.log", bytes)
            let error = #expect(throws: StoreError.self) { try ResourceStore(directory: dir, options: testOptions()) }
            #expect(error?.description.contains("records for revisions 2...4 are missing") == true)
        }
    }

    /// Many writes with a small threshold: the files stay bounded, the old
    /// segments go, and what reopens equals what was written.
    @Test func compactionKeepsTheFilesBoundedAndTheContent() throws {
        try withTemporaryDirectory { dir in
            let threshold = 32 << 10
            let before: [JSONValue]
            let revision: String
            do {
                let store = try ResourceStore(directory: dir, options: testOptions { $0.compactionBytes = threshold })
                var largest = 0
                for i in 0..<3000 {
                    let name = "p\(i % 20)"
                    let object = pod(name, image: "image:\(i)")
                    if i < 20 {
                        try store.create(podsResource, object)
                    } else if i % 97 == 0 {
                        try store.delete(ObjectKey(podsResource, namespace: "default", name: name))
                        try store.create(podsResource, object)
                    } else {
                        try store.update(podsResource, object)
                    }
                    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
                    let total = try files.reduce(0) {
                        $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0)
                    }
                    largest = max(largest, total)
                }
                let stats = store.stats()
                #expect(stats.compactions > 10)
                #expect(stats.logSegments <= 2)
                // One snapshot (20 small objects) plus at most one threshold of log.
                #expect(largest < threshold + 3 * stats.snapshotBytes + 1024, "largest \(largest)")
                before = dump(store, resources)
                revision = store.resourceVersion
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions())
            #expect(dump(store, resources) == before)
            #expect(store.resourceVersion == revision)
            #expect(store.recovery.snapshotRevision > 0)
            #expect(try !FileManager.default.contentsOfDirectory(atPath: dir).contains("snapshot.tmp"))
            store.close()
        }
    }

    /// Writers carry on into the new segment while a snapshot is written
    /// outside the lock; nothing written meanwhile may be lost or doubled.
    @Test func compactionUnderConcurrentWritesLosesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let store = try ResourceStore(directory: dir, options: testOptions { $0.compactionBytes = 16 << 10 })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for i in 0..<300 {
                            let name = "w\(writer)-\(i % 25)"
                            if i < 25 {
                                try store.create(podsResource, pod(name))
                            } else {
                                try store.update(podsResource, pod(name, image: "image:\(i)"))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(store.stats().compactions > 5)
            let before = dump(store, resources)
            #expect(store.resourceVersion == "1200")
            store.close()
            let reopened = try ResourceStore(directory: dir, options: testOptions())
            #expect(dump(reopened, resources) == before)
            #expect(reopened.resourceVersion == "1200")
            reopened.close()
        }
    }

    @Test func aDamagedSnapshotIsRefused() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions())
                for i in 0..<3 { try store.create(podsResource, pod("p\(i)")) }
                try store.compact()
                store.close()
            }
            var bytes = fileBytes(dir + "/snapshot")
            try writeFile(dir + "/snapshot", Array(bytes.dropLast(3)))
            #expect(throws: StoreError.self) { try ResourceStore(directory: dir, options: testOptions()) }
            bytes[bytes.count - 5] ^= 0xFF
            try writeFile(dir + "/snapshot", bytes)
            #expect(throws: StoreError.self) { try ResourceStore(directory: dir, options: testOptions()) }
        }
    }

    @Test(arguments: [SyncPolicy.always, .interval(milliseconds: 5)])
    func everySyncPolicyWritesTheSameLog(sync: SyncPolicy) throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try ResourceStore(directory: dir, options: testOptions(sync: sync))
                for i in 0..<20 { try store.create(podsResource, pod("p\(i)")) }
                store.close()
            }
            let store = try ResourceStore(directory: dir, options: testOptions())
            #expect(store.stats().objects == 20)
            store.close()
        }
    }
}

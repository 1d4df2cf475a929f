import MeshSystem

extension ChildProcess {
    /// Waits for the child to exit without blocking a thread: its pidfd (pidfd_open)
    /// becomes readable on `loop` when it exits, then waitpid(WNOHANG) reaps it.
    /// Cancelling the task throws `CancellationError` and leaves the child running.
    public func exitStatus(on loop: EventLoop) async throws -> ExitStatus {
        let descriptor = try openDescriptor()
        return try await loop.onLoop {
            let selectable = Selectable(descriptor: descriptor)
            defer { loop.close(selectable) }
            while true {
                if let status = try tryWait() { return status }
                selectable.mayRead = false
                try await loop.waitUntilReady(selectable, for: .read, deadline: nil, operation: .read)
            }
        }
    }
}

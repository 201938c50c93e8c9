import Foundation
import Synchronization

/// Runs a program to its end without blocking Swift's cooperative threads. Those threads are as many as the
/// cores (two here); `Process.waitUntilExit` on one of them stalls every task scheduled on it, including a
/// request that holds a database transaction and the audit chain's lock. So the program is started, fed and
/// awaited on threads of its own, and the caller only suspends.
public enum ChildProcess {
    public struct Output: Sendable {
        public let status: Int32, stdout: Data, stderr: Data
        public var text: String { String(decoding: stdout, as: UTF8.self) }
        public var errorText: String { String(decoding: stderr, as: UTF8.self) }
    }

    public enum Failure: Error, Equatable { case timedOut(seconds: Int) }

    /// `executable`: an absolute path, or a name looked up in PATH (through /usr/bin/env). `timeout`: the program
    /// is terminated after so many seconds, and the call throws `timedOut`.
    public static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: Int? = nil) async throws -> Output {
        let p = Process()
        if executable.hasPrefix("/") {
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = arguments
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [executable] + arguments
        }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = errors
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<Output, any Error>) in
            Thread.detachNewThread {
                do { try p.run() } catch { k.resume(throwing: error); return }
                let timedOut = Mutex(false)
                if let timeout {
                    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(timeout)) {
                        if p.isRunning { timedOut.withLock { $0 = true }; p.terminate() }
                    }
                }
                // Standard input is written and standard error read on threads of their own, so that a program
                // that fills one pipe while we wait on another cannot deadlock.
                Thread.detachNewThread {
                    if let stdin { input.fileHandleForWriting.write(stdin) }
                    try? input.fileHandleForWriting.close()
                }
                let stderrData = Mutex(Data())
                let stderrDone = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    let read = errors.fileHandleForReading.readDataToEndOfFile()
                    stderrData.withLock { $0 = read }
                    stderrDone.signal()
                }
                let out = output.fileHandleForReading.readDataToEndOfFile()
                stderrDone.wait()
                p.waitUntilExit()
                if timedOut.withLock({ $0 }), let timeout { k.resume(throwing: Failure.timedOut(seconds: timeout)); return }
                k.resume(returning: Output(status: p.terminationStatus, stdout: out, stderr: stderrData.withLock { $0 }))
            }
        }
    }

}

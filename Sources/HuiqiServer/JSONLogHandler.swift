import Foundation
import Logging
import Synchronization

/// Structured logs for production: one JSON object per line on standard output (time, level, logger, message,
/// source and the metadata, such as Vapor's `request-id`), for a log shipper to index.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    private static let output = Mutex<FileHandle>(FileHandle.standardOutput)

    public init(label: String, level: Logger.Level) { self.label = label; logLevel = level }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = ["ts": Date().formatted(.iso8601), "level": event.level.rawValue, "logger": label,
                                        "message": "\(event.message)", "source": event.source]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[k] = "\(v)" }
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(0x0A)
        Self.output.withLock { $0.write(line) }
    }
}

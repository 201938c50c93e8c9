import FluentPostgresDriver
import Foundation
import NIOCore

/// Bulk loading for generated populations: PostgreSQL's `COPY … FROM STDIN` through PostgresNIO (text format,
/// streamed in pieces, no file and no psql), SQLite's multi-row inserts in one transaction per call.
extension Store {
    /// Appends `rows` (text columns; empty text is NULL) to `table`. All rows of one call are committed together.
    public func load(table: String, columns: [String], rows: [[String]]) async throws {
        guard !rows.isEmpty else { return }
        guard isPostgres, let postgres = database as? any PostgresDatabase else {
            try await bulkInsert(table: table, columns: columns, rows: rows)
            return
        }
        let logger = database?.logger ?? Logger(label: "huiqi-load")
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    for row in rows {
                        Self.appendCopyLine(row, to: &buffer)
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        }.get()
    }

    /// One line of COPY's text format: fields separated by tabs, `\N` for NULL, and the format's four special
    /// characters (backslash, tab, newline, carriage return) escaped.
    static func appendCopyLine(_ row: [String], to buffer: inout ByteBuffer) {
        for (n, field) in row.enumerated() {
            if n > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            if field.isEmpty { buffer.writeStaticString("\\N"); continue }
            let utf8 = field.utf8
            if utf8.withContiguousStorageIfAvailable({ bytes in
                guard !bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 9 || $0 == 10 || $0 == 13 }) else { return false }
                buffer.writeBytes(bytes)
                return true
            }) == true { continue }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 9: buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}

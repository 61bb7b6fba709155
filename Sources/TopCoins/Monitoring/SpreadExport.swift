#if canImport(Glibc)
import Glibc
#endif

/// `spread-monitor export`: the stored observations as Hive-style partitions
/// `DIR/book=<book>/date=<yyyy-mm-dd>/hour=<hh>/spreads.csv`, the layout Spark, DuckDB and
/// Athena read with the partition columns recovered from the path (so the file does not
/// repeat them). Each file is RFC 4180 (a header, CRLF line ends, quoting where needed),
/// written under a temporary name and renamed, so a re-export replaces a partition whole.
public struct SpreadExport: Sendable {
    public static let header = ["observed_at", "bid", "ask", "spread_pct", "flags", "breach", "sequence", "updated_at"]

    let store: SpreadStore
    let directory: String

    public init(store: SpreadStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// Why an export stopped.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case redis(RedisError)
        case file(path: String, reason: String)

        public var description: String {
            switch self {
            case .redis(let error): "Redis: \(error)"
            case .file(let path, let reason): "\(path): \(reason)"
            }
        }
    }

    /// What an export wrote.
    public struct Written: Sendable, Equatable {
        public var partitions = 0
        public var observations = 0
        /// Stored observations that did not decode (left out).
        public var corrupt = 0
    }

    /// Exports each of `books`' observations with `from ≤ observed_at ≤ to`, hour by hour.
    public func export(books: [String], from: Timestamp, to: Timestamp) async throws(Failure) -> Written {
        var written = Written()
        for book in books {
            let hours: [(member: String, score: Int64)]
            do throws(RedisError) {
                hours = try await store.redis.zrangeByScore(
                    store.keys.hours(book), minimum: String(SpreadSummary.Width.hour.start(of: from).milliseconds), maximum: String(to.milliseconds))
            } catch {
                throw .redis(error)
            }
            for (_, start) in hours {
                let hour = Timestamp(milliseconds: start)
                let read: SpreadStore.Read<SpreadObservation>
                do throws(RedisError) {
                    read = try await store.observations(
                        of: book, from: max(from, hour), to: min(to, hour.adding(milliseconds: SpreadSummary.Width.hour.milliseconds - 1)), limit: Int.max)
                } catch {
                    throw .redis(error)
                }
                written.corrupt += read.corrupt
                guard !read.values.isEmpty else { continue }
                try write(read.values, book: book, hour: hour)
                written.partitions += 1
                written.observations += read.values.count
            }
        }
        return written
    }

    /// `book=<book>/date=<day>/hour=<hh>` under the directory.
    public static func partition(book: String, hour: Timestamp) -> String {
        let iso = hour.iso8601
        return "book=\(book)/date=\(iso.prefix(10))/hour=\(iso.dropFirst(11).prefix(2))"
    }

    /// The CSV text of one partition.
    public static func csv(_ observations: [SpreadObservation]) -> String {
        var text = header.joined(separator: ",") + "\r\n"
        for observation in observations {
            let fields = [
                observation.observedAt.iso8601, observation.bid?.text ?? "", observation.ask?.text ?? "", observation.spreadPct?.text ?? "",
                observation.flags.names.joined(separator: ";"), observation.breach ? "true" : "false", String(observation.sequence),
                observation.updatedAt.iso8601,
            ]
            text += fields.map(quoted).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// RFC 4180: a field holding a comma, quote, CR or LF is quoted, its quotes doubled.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return field }
        var text = "\""
        for character in field {
            if character == "\"" { text.append("\"") }
            text.append(character)
        }
        return text + "\""
    }

    func write(_ observations: [SpreadObservation], book: String, hour: Timestamp) throws(Failure) {
        let folder = "\(directory)/\(SpreadExport.partition(book: book, hour: hour))"
        try SpreadExport.makeDirectories(folder)
        let final = "\(folder)/spreads.csv"
        let temporary = "\(folder)/.spreads.csv.\(getpid()).tmp"
        let bytes = Array(SpreadExport.csv(observations).utf8)
        guard let file = fopen(temporary, "wb") else { throw .file(path: temporary, reason: String(cString: strerror(errno))) }
        let count = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let closed = fclose(file) == 0
        guard count == bytes.count, flushed, closed else {
            unlink(temporary)
            throw .file(path: temporary, reason: "could not write the whole file")
        }
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .file(path: final, reason: reason)
        }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw .file(path: prefix, reason: String(cString: strerror(errno))) }
        }
    }
}

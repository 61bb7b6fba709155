import Logging
import Synchronization

/// One log line per event, `key=value` pairs, to standard error:
/// `ts=2026-01-02T03:04:05.678Z level=info service=price-fetcher msg="published snapshot" records=2500`.
/// Every known secret is replaced by `***` before a line is written.
public struct KeyValueLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    /// Values that must never reach a log: API keys and passwords read from the environment.
    public static let secrets = Mutex<[String]>([])

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "ts=\(Timestamp.now.iso8601) level=\(event.level.rawValue) service=\(label) msg=\(KeyValueLogHandler.quoted(event.message.description))"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            line += " \(key)=\(KeyValueLogHandler.quoted(merged[key]!.description))"
        }
        line = KeyValueLogHandler.redacted(line)
        StandardError.write(line + "\n")
    }

    public static func redacted(_ text: String) -> String {
        var result = text
        for secret in secrets.withLock({ $0 }) where secret.count >= 4 {
            result = result.replacingAll(secret, with: "***")
        }
        return result
    }

    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" || $0 == "\\" }
        guard needsQuotes else { return value }
        var escaped = "\""
        for character in value {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

import Foundation
import Testing
@testable import TopCoins

/// Test configs derived from the shipped `Config/<executable>.json`: only what a test must
/// change (the upstream URL, the schedule, retry delays, timeouts) is changed, so the tests
/// exercise the shipped mapping, headers and query.
enum TestConfigs {
    /// The shipped config of `executable`, parsed (numbers and key order kept).
    static func shipped(_ executable: String) throws -> JSONValue {
        let path = BuildProducts.packageRoot.appendingPathComponent("Config/\(executable).json").path
        guard let bytes = ConfigFile.readFile(path) else { throw HarnessError("cannot read \(path)") }
        return try JSONParser.parse(bytes)
    }

    /// A fetcher config pointed at `upstreamBaseURL` (scheme and host replaced, path kept),
    /// with `schedule.interval_seconds` = `intervalSeconds`, short retry delays (attempts as
    /// shipped) and, when given, `request.timeout_seconds`. `edit` may change anything else.
    static func fetcher(
        _ executable: String,
        upstreamBaseURL: String,
        intervalSeconds: Int = 1,
        initialRetryDelaySeconds: String = "0.1",
        maxRetryDelaySeconds: String = "0.3",
        timeoutSeconds: String? = nil,
        edit: (inout JSONValue) -> Void = { _ in }
    ) throws -> JSONValue {
        var config = try shipped(executable)
        guard case .string(let shippedURL)? = config["request"]?["url"] else { throw HarnessError("\(executable).json has no request.url") }
        config = config
            .setting(["request", "url"], .string(upstreamBaseURL + urlPath(shippedURL)))
            .setting(["schedule", "interval_seconds"], .number(String(intervalSeconds)))
            .setting(["retry", "initial_delay_seconds"], .number(initialRetryDelaySeconds))
            .setting(["retry", "max_delay_seconds"], .number(maxRetryDelaySeconds))
        if let timeoutSeconds { config = config.setting(["request", "timeout_seconds"], .number(timeoutSeconds)) }
        edit(&config)
        return config
    }

    /// Writes `config` as JSON to `path`.
    static func write(_ config: JSONValue, to path: String) throws {
        let bytes = JSONWriter.encode(config)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw HarnessError("cannot write \(path)") }
    }

    /// `https://host/a/b?x` → `/a/b?x`.
    static func urlPath(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        return rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
    }
}

extension JSONValue {
    /// A copy with the member at `path` (object keys) set to `value`, or removed when nil.
    /// Missing intermediate objects are created; an existing key keeps its position.
    func setting(_ path: [String], _ value: JSONValue?) -> JSONValue {
        guard let key = path.first else { return value ?? .null }
        let object: JSONObject
        if case .object(let existing) = self { object = existing } else { object = JSONObject() }
        var rebuilt = JSONObject()
        var found = false
        for (name, member) in object.members {
            if name == key {
                found = true
                if path.count == 1, value == nil { continue }
                rebuilt.append(name, member.setting(Array(path.dropFirst()), value))
            } else {
                rebuilt.append(name, member)
            }
        }
        if !found, path.count > 1 || value != nil {
            rebuilt.append(key, JSONValue.null.setting(Array(path.dropFirst()), value))
        }
        return .object(rebuilt)
    }
}

/// One wrong edit of a test config, and what the fetcher's exit-2 message must mention.
struct ConfigMistake: Sendable, CustomTestStringConvertible {
    let name: String
    let edit: @Sendable (JSONValue) -> JSONValue
    let mentions: [String]
    var testDescription: String { name }
}

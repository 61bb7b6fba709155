/// Where a Redis server is and how to log in: parsed from `redis://[:password@]host:port[/db]`
/// (also `redis://user:password@...`), `unix:///path/to/redis.sock[?db=N]`, or the Sentinel
/// form `redis-sentinel://[:password@]host1:26379,host2:26379/mymaster[?db=N]` (see
/// `SentinelSet`). Username and password are always the data server's.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
        /// Whichever server the Sentinels name, asked anew on every connect.
        case sentinel(SentinelSet)
    }

    public let address: Address
    public let username: String?
    public let password: String?
    public let database: Int

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    public init(url: String) throws(InvalidURL) {
        if url.hasPrefix("unix://") {
            var rest = Substring(url.dropFirst("unix://".count))
            var database = 0
            if let question = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: question)...]
                rest = rest[..<question]
                guard query.hasPrefix("db="), let number = Int(query.dropFirst(3)), number >= 0 else {
                    throw InvalidURL(description: "unix socket URLs take only ?db=N")
                }
                database = number
            }
            guard rest.hasPrefix("/") else { throw InvalidURL(description: "expected unix:///absolute/path/redis.sock") }
            self.init(address: .unix(path: String(rest)), database: database)
            return
        }
        if url.hasPrefix(SentinelSet.scheme) {
            self = try SentinelSet.endpoint(url: url)
            return
        }
        guard url.hasPrefix("redis://") else {
            throw InvalidURL(
                description: "expected redis://[:password@]host:port[/db], unix:///path or redis-sentinel://host:port,.../name, found a URL with another scheme")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        let (username, password) = RedisEndpoint.credentials(&rest)
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { throw InvalidURL(description: "the database after '/' must be a number") }
                database = number
            }
        }
        let (host, port) = try RedisEndpoint.hostAndPort(rest, defaultPort: 6379)
        self.init(address: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    /// Takes `[user]:password@` (or `password@`) off the front of `rest`; the last '@' ends it.
    static func credentials(_ rest: inout Substring) -> (username: String?, password: String?) {
        guard let at = rest.lastIndex(of: "@") else { return (nil, nil) }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        guard let colon = credentials.firstIndex(of: ":") else { return (nil, percentDecode(credentials)) }
        let user = credentials[..<colon]
        return (user.isEmpty ? nil : percentDecode(user), percentDecode(credentials[credentials.index(after: colon)...]))
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    static func hostAndPort(_ text: Substring, defaultPort: Int) throws(InvalidURL) -> (host: String, port: Int) {
        var host = text
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw InvalidURL(description: "unclosed '[' in the host") }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()), (1...65535).contains(number) else { throw InvalidURL(description: "invalid port") }
                port = number
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]), (1...65535).contains(number) else {
                throw InvalidURL(description: "invalid port")
            }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw InvalidURL(description: "missing host") }
        return (String(host), port)
    }

    /// Decodes `%XX` escapes; anything else, a malformed escape included, is kept as written.
    static func percentDecode(_ text: Substring) -> String {
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count, let high = hex(input[index + 1]), let low = hex(input[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The endpoint for logs: never the password.
    public var description: String {
        switch address {
        case .tcp(let host, let port): "redis://\(password == nil ? "" : "***@")\(host):\(port)/\(database)"
        case .unix(let path): "unix://\(path)\(database == 0 ? "" : "?db=\(database)")"
        case .sentinel(let sentinels): sentinels.description(dataPassword: password != nil, database: database)
        }
    }
}

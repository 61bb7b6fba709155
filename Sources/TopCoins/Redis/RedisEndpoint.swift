/// Where a Redis server is and how to log in: parsed from `redis://[:password@]host:port[/db]`
/// (also `redis://user:password@...`) or `unix:///path/to/redis.sock[?db=N]`.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
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
        guard url.hasPrefix("redis://") else {
            throw InvalidURL(description: "expected redis://[:password@]host:port[/db] or unix:///path, found a URL with another scheme")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : RedisEndpoint.percentDecode(user)
                password = RedisEndpoint.percentDecode(credentials[credentials.index(after: colon)...])
            } else {
                password = RedisEndpoint.percentDecode(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { throw InvalidURL(description: "the database after '/' must be a number") }
                database = number
            }
        }
        var host = rest
        var port = 6379
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw InvalidURL(description: "unclosed '[' in the host") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()), (1...65535).contains(number) else { throw InvalidURL(description: "invalid port") }
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
        self.init(address: .tcp(host: String(host), port: port), username: username, password: password, database: database)
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The endpoint for logs: never the password.
    public var description: String {
        switch address {
        case .tcp(let host, let port): "redis://\(password == nil ? "" : "***@")\(host):\(port)/\(database)"
        case .unix(let path): "unix://\(path)\(database == 0 ? "" : "?db=\(database)")"
        }
    }
}

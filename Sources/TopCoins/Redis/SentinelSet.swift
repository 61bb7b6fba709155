/// The Sentinels that watch one primary, and which of its servers a client wants. Parsed from
/// `redis-sentinel://[[user]:password@]host1:26379,host2:26379/mymaster[?db=N&sentinel_password=…&replica=1]`:
/// the credentials before '@' are the data servers' (as in `redis://`), `sentinel_password`
/// (percent-encoded) is the Sentinels' own when they require one, `replica=1` asks for a
/// replica instead of the primary (read-only clients only). Every connect asks the Sentinels
/// again, so a client follows a failover by reconnecting.
public struct SentinelSet: Sendable, Equatable {
    public struct Server: Sendable, Equatable, CustomStringConvertible {
        public let host: String
        public let port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public enum Role: Sendable, Equatable {
        /// The primary Sentinel names: the only server that takes writes.
        case primary
        /// Any replica Sentinel lists as up, else the primary: reads that tolerate replication lag.
        case replica
    }

    static let scheme = "redis-sentinel://"
    static let defaultPort = 26379
    /// More Sentinels than this in one URL is a mistake, not a deployment.
    static let maxSentinels = 16
    static let maxNameLength = 128

    public let sentinels: [Server]
    /// The name the Sentinels monitor the primary under (`sentinel monitor <name> ...`).
    public let masterName: String
    /// The Sentinels' own password (`requirepass` in sentinel.conf); nil when they need none.
    public let password: String?
    public let role: Role

    public init(sentinels: [Server], masterName: String, password: String? = nil, role: Role = .primary) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.password = password
        self.role = role
    }

    typealias InvalidURL = RedisEndpoint.InvalidURL

    /// Parses the Sentinel form of `REDIS_URL` (which starts with `scheme`).
    static func endpoint(url: String) throws(InvalidURL) -> RedisEndpoint {
        var rest = Substring(url.dropFirst(scheme.count))
        var query: Substring?
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        let (username, password) = RedisEndpoint.credentials(&rest)
        guard let slash = rest.firstIndex(of: "/") else {
            throw InvalidURL(description: "expected redis-sentinel://host:port[,host:port...]/name: the monitored name is missing")
        }
        let name = rest[rest.index(after: slash)...]
        guard !name.isEmpty, name.count <= maxNameLength, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw InvalidURL(description: "the monitored name after '/' must be 1 to \(maxNameLength) letters, digits, '-', '_' or '.'")
        }
        let hosts = rest[..<slash].split(separator: ",", omittingEmptySubsequences: false)
        guard hosts.count <= maxSentinels else { throw InvalidURL(description: "more than \(maxSentinels) Sentinels") }
        var sentinels: [Server] = []
        for host in hosts {
            guard !host.isEmpty else { throw InvalidURL(description: "an empty Sentinel address in the list") }
            let (name, port) = try RedisEndpoint.hostAndPort(host, defaultPort: defaultPort)
            sentinels.append(Server(host: name, port: port))
        }
        var database = 0
        var sentinelPassword: String?
        var role = Role.primary
        var seen: Set<Substring> = []
        for pair in query?.split(separator: "&", omittingEmptySubsequences: false) ?? [] {
            guard let equals = pair.firstIndex(of: "=") else { throw InvalidURL(description: "a query parameter without '=' (expected db, sentinel_password or replica)") }
            let key = pair[..<equals]
            let value = pair[pair.index(after: equals)...]
            guard seen.insert(key).inserted else { throw InvalidURL(description: "query parameter \(key) given twice") }
            switch key {
            case "db":
                guard let number = Int(value), number >= 0 else { throw InvalidURL(description: "db must be a number") }
                database = number
            case "sentinel_password":
                guard !value.isEmpty else { throw InvalidURL(description: "sentinel_password is empty") }
                sentinelPassword = RedisEndpoint.percentDecode(value)
            case "replica":
                guard value == "0" || value == "1" else { throw InvalidURL(description: "replica must be 0 or 1") }
                role = value == "1" ? .replica : .primary
            default:
                throw InvalidURL(description: "unknown query parameter \(key.prefix(40)) (expected db, sentinel_password or replica)")
            }
        }
        return RedisEndpoint(
            address: .sentinel(SentinelSet(sentinels: sentinels, masterName: String(name), password: sentinelPassword, role: role)),
            username: username, password: password, database: database)
    }

    /// The URL for logs: never a password.
    func description(dataPassword: Bool, database: Int) -> String {
        var query: [String] = []
        if database != 0 { query.append("db=\(database)") }
        if password != nil { query.append("sentinel_password=***") }
        if role == .replica { query.append("replica=1") }
        let hosts = sentinels.map(\.description).joined(separator: ",")
        return "\(SentinelSet.scheme)\(dataPassword ? "***@" : "")\(hosts)/\(masterName)\(query.isEmpty ? "" : "?" + query.joined(separator: "&"))"
    }

    /// The primary in a `SENTINEL get-master-addr-by-name` reply; nil when that Sentinel does
    /// not monitor the name (a null reply).
    static func primary(in reply: RedisValue) throws(RedisError) -> Server? {
        if reply == .null { return nil }
        guard let pair = reply.array, pair.count == 2, let host = pair[0].string, !host.isEmpty, let port = pair[1].int, (1...65535).contains(port) else {
            throw .unexpectedReply("get-master-addr-by-name: \(String(describing: reply).prefix(200))")
        }
        return Server(host: host, port: port)
    }

    /// The replicas a `SENTINEL replicas` reply lists as up: neither subjectively nor
    /// objectively down, nor disconnected from Sentinel. A replica whose link to a dead
    /// primary is broken still counts: its data is only older, which readers accept.
    /// Entries of another shape are skipped, not trusted.
    static func upReplicas(in reply: RedisValue) throws(RedisError) -> [Server] {
        guard let entries = reply.array else { throw .unexpectedReply("SENTINEL replicas: \(String(describing: reply).prefix(200))") }
        return entries.compactMap { entry in
            let fields = entry.fieldMap
            guard let host = fields["ip"], !host.isEmpty, let port = fields["port"].flatMap({ Int($0) }), (1...65535).contains(port) else { return nil }
            let flags = Set((fields["flags"] ?? "").split(separator: ","))
            guard flags.isDisjoint(with: ["s_down", "o_down", "disconnected"]) else { return nil }
            return Server(host: host, port: port)
        }
    }

    /// The role word of a `ROLE` reply (`master`, `slave`, `sentinel`).
    static func role(in reply: RedisValue) throws(RedisError) -> String {
        guard let role = reply.array?.first?.string else { throw .unexpectedReply("ROLE: \(String(describing: reply).prefix(200))") }
        return role
    }

    /// Whether a server reporting `role` may serve this set's clients: only the primary
    /// takes writes; readers take a replica or the primary.
    func accepts(role: String) -> Bool {
        switch self.role {
        case .primary: role == "master"
        case .replica: role == "master" || role == "slave"
        }
    }
}

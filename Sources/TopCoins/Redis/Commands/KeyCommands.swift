extension RedisClient {
    /// `GET key`: the value's bytes, or nil when the key does not exist.
    public func get(_ key: String) async throws(RedisError) -> [UInt8]? {
        try await send(["GET", RedisArgument(key)]).bytes
    }

    /// `SET key value`.
    public func set(_ key: String, _ value: RedisArgument) async throws(RedisError) {
        try await send(["SET", RedisArgument(key), value])
    }

    /// `DEL key...`: returns how many keys existed.
    @discardableResult
    public func del(_ keys: [String]) async throws(RedisError) -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await send(["DEL"] + keys.map { RedisArgument($0) }).int ?? 0
    }

    /// `HSET key field value ...`.
    public func hset(_ key: String, _ fields: [(String, RedisArgument)]) async throws(RedisError) {
        try await send(["HSET", RedisArgument(key)] + fields.flatMap { [RedisArgument($0.0), $0.1] })
    }

    /// `HGETALL key` as name-value pairs.
    public func hgetall(_ key: String) async throws(RedisError) -> [String: String] {
        try await send(["HGETALL", RedisArgument(key)]).fieldMap
    }

    /// `EVAL script numkeys key... arg...`.
    @discardableResult
    public func eval(_ script: String, keys: [String], arguments: [RedisArgument]) async throws(RedisError) -> RedisValue {
        try await send(["EVAL", RedisArgument(script), RedisArgument(keys.count)] + keys.map { RedisArgument($0) } + arguments)
    }

    /// `PING`, for health checks.
    public func ping() async throws(RedisError) {
        try await send(["PING"])
    }
}

extension RedisClient {
    /// `ZADD key score member`.
    public func zadd(_ key: String, score: Int64, member: String) async throws(RedisError) {
        try await send(["ZADD", RedisArgument(key), RedisArgument(score), RedisArgument(member)])
    }

    /// Members with scores in `[minimum, maximum]`, lowest first
    /// (`ZRANGEBYSCORE key min max WITHSCORES [LIMIT 0 n]`).
    public func zrangeByScore(_ key: String, minimum: String, maximum: String, limit: Int? = nil) async throws(RedisError) -> [(member: String, score: Int64)] {
        var arguments: [RedisArgument] = ["ZRANGEBYSCORE", RedisArgument(key), RedisArgument(minimum), RedisArgument(maximum), "WITHSCORES"]
        if let limit { arguments += ["LIMIT", "0", RedisArgument(limit)] }
        return RedisClient.scoredMembers(try await send(arguments))
    }

    /// Members with scores in `[minimum, maximum]`, highest first
    /// (`ZREVRANGEBYSCORE key max min WITHSCORES [LIMIT 0 n]`).
    public func zrevrangeByScore(_ key: String, maximum: String, minimum: String, limit: Int? = nil) async throws(RedisError) -> [(member: String, score: Int64)] {
        var arguments: [RedisArgument] = ["ZREVRANGEBYSCORE", RedisArgument(key), RedisArgument(maximum), RedisArgument(minimum), "WITHSCORES"]
        if let limit { arguments += ["LIMIT", "0", RedisArgument(limit)] }
        return RedisClient.scoredMembers(try await send(arguments))
    }

    static func scoredMembers(_ reply: RedisValue) -> [(member: String, score: Int64)] {
        let flat = reply.array ?? []
        var result: [(member: String, score: Int64)] = []
        var index = 0
        while index + 1 < flat.count {
            result.append((flat[index].string ?? "", Int64(flat[index + 1].string ?? "") ?? 0))
            index += 2
        }
        return result
    }
}

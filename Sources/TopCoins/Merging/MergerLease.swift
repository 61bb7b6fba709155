/// The right to write merged snapshots, held by one merger at a time: a Redis key with an
/// expiry, set only when free (`SET NX PX`) and renewed by its holder. A standby merger waits
/// for the key to expire (or be released) and takes over; the write script checks the key,
/// so a merger that lost the lease cannot write even if it has not noticed yet.
public struct MergerLease: Sendable {
    let redis: RedisClient
    let key: String
    /// Unique per process, so two mergers with the same consumer name still differ.
    public let token: String
    public let milliseconds: Int

    public init(redis: RedisClient, key: String, owner: String, seconds: Double) {
        self.redis = redis
        self.key = key
        self.token = "\(owner):\(UInt64.random(in: 0...UInt64.max))"
        self.milliseconds = Int(seconds * 1000)
    }

    static let acquireScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """

    /// Takes the lease if nobody holds it, or takes it back if this process still does: a
    /// merger that lost Redis (a failover: the replica it reaches now has the key) resumes at
    /// once instead of waiting out its own lease. The token is unique per process, so the
    /// lease stays exclusive.
    public func acquire() async throws(RedisError) -> Bool {
        try await redis.eval(MergerLease.acquireScript, keys: [key], arguments: [RedisArgument(token), RedisArgument(milliseconds)]).int == 1
    }

    static let renewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """

    /// Extends the lease; false when it is no longer ours.
    public func renew() async throws(RedisError) -> Bool {
        try await redis.eval(MergerLease.renewScript, keys: [key], arguments: [RedisArgument(token), RedisArgument(milliseconds)]).int == 1
    }

    static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """

    /// Gives the lease up at shutdown so a standby takes over at once.
    public func release() async throws(RedisError) {
        try await redis.eval(MergerLease.releaseScript, keys: [key], arguments: [RedisArgument(token)])
    }
}

/// The lease as its holder keeps it while working: renewed a few times per period, so a long
/// step (converting old history) does not let it lapse, and a lost lease is noticed.
public struct LeaseHold: Sendable {
    public let lease: MergerLease
    var lastRenewal = ContinuousClock.now
    public private(set) var holds = true

    public init(_ lease: MergerLease) {
        self.lease = lease
    }

    /// Renews when a third of the period has passed; false once the lease is lost.
    public mutating func keep() async throws(RedisError) -> Bool {
        guard holds else { return false }
        if lastRenewal.duration(to: .now) >= .milliseconds(lease.milliseconds / 3) {
            holds = try await lease.renew()
            lastRenewal = .now
        }
        return holds
    }

    /// A write the lease fenced off: another merger holds it now.
    public mutating func lost() {
        holds = false
    }
}

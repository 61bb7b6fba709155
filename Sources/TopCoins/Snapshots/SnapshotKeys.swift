/// The Redis keys of merged history. They share the `{topcoins}` hash tag so a Redis Cluster
/// keeps them in one slot, which the atomic write needs.
public struct SnapshotKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "{topcoins}") {
        self.prefix = prefix
    }

    /// Sorted set: member and score are each snapshot's timestamp in unix ms.
    public var history: String { "\(prefix):history" }
    /// The newest snapshot's timestamp.
    public var latest: String { "\(prefix):latest" }
    /// The asset registry list (see `AssetRegistry`).
    public var assets: String { "\(prefix):assets" }
    /// Hash of retention progress: the boundary each tier has been applied up to.
    public var retention: String { "\(prefix):retention" }
    /// Which merger may write (see `MergerLease`).
    public var mergerLease: String { "\(prefix):merger:lease" }

    public func snapshot(_ timestamp: Timestamp) -> String { "\(prefix):snapshot:\(timestamp.milliseconds)" }
}

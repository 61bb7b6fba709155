/// Values by key under a budget of cost (bytes, points: whatever the owner counts). Over
/// budget, the most recently used are kept down to half of it, so a run of new entries
/// evicts once rather than on every insert. Not locked: each owner keeps it in its own
/// `Mutex` state, beside whatever else that lock guards.
struct LeastRecentlyUsed<Key: Hashable, Value> {
    private struct Entry {
        let value: Value
        let cost: Int
        var lastUse: UInt64
    }

    let budget: Int
    private var entries: [Key: Entry] = [:]
    private var cost = 0
    private var clock: UInt64 = 0

    init(budget: Int) {
        self.budget = budget
    }

    /// The value under `key`, marked as just used.
    mutating func value(_ key: Key) -> Value? {
        guard entries[key] != nil else { return nil }
        clock += 1
        entries[key]!.lastUse = clock
        return entries[key]!.value
    }

    /// Keeps `value` under `key` (replacing what was there), unless it alone passes the budget.
    mutating func insert(_ value: Value, cost: Int, as key: Key) {
        guard cost <= budget else { return }
        clock += 1
        if let old = entries.updateValue(Entry(value: value, cost: cost, lastUse: clock), forKey: key) { self.cost -= old.cost }
        self.cost += cost
        guard self.cost > budget else { return }
        var kept: [Key: Entry] = [:]
        var keptCost = 0
        for (key, entry) in entries.sorted(by: { $0.value.lastUse > $1.value.lastUse }) where keptCost + entry.cost <= budget / 2 {
            kept[key] = entry
            keptCost += entry.cost
        }
        entries = kept
        self.cost = keptCost
    }

    /// Drops every entry `isStale` says is.
    mutating func removeAll(where isStale: (Key, Value) -> Bool) {
        entries = entries.filter { !isStale($0.key, $0.value.value) }
        cost = entries.values.reduce(0) { $0 + $1.cost }
    }
}

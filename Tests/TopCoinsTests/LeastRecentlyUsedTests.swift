import Testing

@testable import TopCoins

@Suite("LeastRecentlyUsed: the budget, what eviction keeps, replacement and staleness")
struct LeastRecentlyUsedTests {
    @Test("an entry alone over the budget is not kept; one at the budget is")
    func singleEntryBudget() {
        var cache = LeastRecentlyUsed<String, Int>(budget: 10)
        cache.insert(1, cost: 11, as: "big")
        #expect(cache.value("big") == nil)
        cache.insert(2, cost: 10, as: "fits")
        #expect(cache.value("fits") == 2)
    }

    @Test("over budget, the most recently used are kept down to half of it")
    func evictsLeastRecentlyUsedToHalf() {
        var cache = LeastRecentlyUsed<Int, Int>(budget: 100)
        for key in 0..<5 { cache.insert(key, cost: 20, as: key) }  // 100: at the budget, all kept
        #expect((0..<5).allSatisfy { cache.value($0) == $0 })
        // Used now in the order 4, 3, 2, 1, 0: 0 is the most recent, then 1.
        for key in (0..<5).reversed() { _ = cache.value(key) }
        cache.insert(5, cost: 20, as: 5)  // 120 > 100: keep the newest up to 50 (two entries of 20)
        let kept = (0...5).filter { cache.value($0) != nil }
        #expect(kept == [0, 5])
    }

    @Test("replacing a key counts its cost once")
    func replacementCountsOnce() {
        var cache = LeastRecentlyUsed<String, Int>(budget: 30)
        for version in 0..<10 { cache.insert(version, cost: 20, as: "same") }
        #expect(cache.value("same") == 9)
        cache.insert(1, cost: 10, as: "other")  // 30: at the budget, both kept
        #expect(cache.value("same") == 9)
        #expect(cache.value("other") == 1)
    }

    @Test("removeAll drops the stale and frees their cost")
    func removeStale() {
        var cache = LeastRecentlyUsed<Int, Int>(budget: 40)
        for key in 0..<4 { cache.insert(key * 10, cost: 10, as: key) }
        cache.removeAll { key, _ in key.isMultiple(of: 2) }
        #expect(cache.value(0) == nil)
        #expect(cache.value(1) == 10)
        // Freed: two more of 10 fit without evicting anything.
        cache.insert(40, cost: 10, as: 4)
        cache.insert(50, cost: 10, as: 5)
        #expect([1, 3, 4, 5].allSatisfy { cache.value($0) != nil })
    }
}

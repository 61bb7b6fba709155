import Testing

@testable import TopCoins

@Suite("INFO memory")
struct MemoryInfoTests {
    static func info(used: String, max: String, policy: String) -> String {
        "# Memory\r\nused_memory:\(used)\r\nused_memory_human:1.00M\r\nmaxmemory:\(max)\r\nmaxmemory_human:0B\r\nmaxmemory_policy:\(policy)\r\n"
    }

    @Test(arguments: [
        ("1048576", "0", "noeviction", false),  // no limit
        ("1048576", "2097152", "noeviction", false),  // under the limit
        ("2097153", "2097152", "noeviction", true),  // over it: writes get -OOM
        ("2097153", "2097152", "allkeys-lru", false),  // over it, but Redis evicts
    ] as [(String, String, String, Bool)])
    func writesAreRefusedOnlyPastALimitWithoutEviction(used: String, max: String, policy: String, refuses: Bool) throws {
        let info = try #require(RedisClient.MemoryInfo(info: Self.info(used: used, max: max, policy: policy)))
        #expect(info.refusesWrites == refuses)
    }

    @Test func aReplyWithoutTheFiguresIsNotRead() {
        #expect(RedisClient.MemoryInfo(info: "# Memory\r\nused_memory_human:1M\r\n") == nil)
        #expect(RedisClient.MemoryInfo(info: Self.info(used: "lots", max: "0", policy: "noeviction")) == nil)
    }
}

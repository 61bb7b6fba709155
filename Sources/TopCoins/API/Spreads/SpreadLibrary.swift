import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// What the spread monitor last said, held in memory for `/ready`, `/metrics` and the
/// dashboard (which must answer even when Redis does not): the books it watches with their
/// rules, each book's newest observation, its counters and the open episodes.
struct SpreadStatus: Sendable {
    var books: [String: BookRules] = [:]
    var latest: [String: SpreadObservation] = [:]
    var counters: [String: Int64] = [:]
    var openEpisodes: [AlertEpisode] = []

    /// Books whose newest observation is older than `staleAfterSeconds` (or that have none),
    /// sorted: a fetcher or monitor that stopped for that book.
    func stalledBooks(staleAfterSeconds: Int, now: Timestamp) -> [String] {
        books.keys.sorted().filter { book in
            guard let latest = latest[book] else { return true }
            return now.milliseconds - latest.observedAt.milliseconds > Int64(staleAfterSeconds) * 1000
        }
    }
}

/// The spread monitor's data as the API serves it: reads through `SpreadStore`, spread over a
/// few connections and sent once more when a connection broke while idle (as history reads
/// are); stored entries that do not decode are left out and counted in
/// `topcoins_spread_corrupt_entries_total`; the monitor's status held in memory, refreshed by
/// `SpreadStatusFollower`.
final class SpreadLibrary: Sendable {
    let stores: [SpreadStore]
    private let nextStore = Atomic<Int>(0)
    private let held = Mutex<SpreadStatus?>(nil)
    private let corruptEntries = CoreMetrics.Counter(label: "topcoins_spread_corrupt_entries_total")

    static let unreachable = APIError.unavailable("spreads are unavailable right now: Redis cannot be reached", retryAfter: 5)

    init(stores: [SpreadStore]) {
        precondition(!stores.isEmpty)
        self.stores = stores
    }

    /// The status last read; nil until the follower first read one.
    var status: SpreadStatus? { held.withLock { $0 } }

    func setStatus(_ status: SpreadStatus) {
        held.withLock { $0 = status }
    }

    /// `read` on the next connection, once more on a broken one; Redis away is the 503 every
    /// route answers with.
    func reading<T>(_ read: (SpreadStore) async throws(RedisError) -> T) async throws(APIError) -> T {
        let store = stores[nextStore.wrappingAdd(1, ordering: .relaxed).oldValue % stores.count]
        do throws(RedisError) {
            do throws(RedisError) {
                return try await read(store)
            } catch {
                guard case .connection = error else { throw error }
                return try await read(store)
            }
        } catch {
            throw SpreadLibrary.unreachable
        }
    }

    /// Counts stored entries a read left out.
    func noteCorrupt(_ count: Int) {
        if count > 0 { corruptEntries.increment(by: count) }
    }

    /// The monitored books: the held status's, read anew when it has none (just started) or
    /// when `asked` is not among them (a book added since the last refresh is not refused).
    func books(asking asked: String? = nil) async throws(APIError) -> [String: BookRules] {
        if let books = status?.books, asked.map({ books[$0] != nil }) ?? true { return books }
        return try await reading { store throws(RedisError) in try await store.books() }
    }

    /// The rules of `book`, or the 404 naming the monitored books.
    func rules(of book: String) async throws(APIError) -> BookRules {
        let books = try await books(asking: book)
        guard let rules = books[book] else {
            var error = APIError(
                status: .notFound, code: "unknown_book", message: "\"\(book.prefix(40))\" is not a monitored book; see error.books", parameter: "book")
            error.details = [("books", .array(books.keys.sorted().map { .string($0) }))]
            throw error
        }
        return rules
    }

    /// The book's observations with `from ≤ observed_at ≤ to`, at most `limit`.
    func observations(of book: String, from: Timestamp, to: Timestamp, limit: Int) async throws(APIError) -> [SpreadObservation] {
        let read = try await reading { store throws(RedisError) in try await store.observations(of: book, from: from, to: to, limit: limit) }
        noteCorrupt(read.corrupt)
        return read.values
    }

    /// The summaries of `book`'s buckets of `width` that start within `first...last` (both
    /// bucket starts) and hold an observation, ascending: the stored summary of each bucket the
    /// monitor closed, the others (the open bucket, one not closed yet) computed from their
    /// observations, the observation after them and the episodes that opened in them.
    func summaries(of book: String, rules: BookRules, width: SpreadSummary.Width, first: Timestamp, last: Timestamp) async throws(APIError) -> [SpreadSummary] {
        let (summaries, corrupt) = try await reading { store throws(RedisError) -> ([SpreadSummary], Int) in
            let hoursKey = store.keys.hours(book)
            let hours = try await store.redis.zrangeByScore(
                hoursKey, minimum: String(first.milliseconds), maximum: String(last.milliseconds + width.milliseconds - 1))
            let starts = Set(hours.map { width.start(of: Timestamp(milliseconds: $0.score)).milliseconds }).sorted().map { Timestamp(milliseconds: $0) }
            let stored = try await store.closedSummaries(of: book, width: width, starts: starts)
            var corrupt = stored.corrupt
            var byStart = Dictionary(stored.values.map { ($0.start, $0) }, uniquingKeysWith: { first, _ in first })
            for start in starts where byStart[start] == nil {
                let end = start.adding(milliseconds: width.milliseconds)
                let observations = try await store.observations(of: book, from: start, to: end.adding(milliseconds: -1), limit: .max)
                corrupt += observations.corrupt
                guard !observations.values.isEmpty else { continue }
                // The next observation ends the last breach's time, however far it lies.
                var following: [SpreadObservation] = []
                if let nextHour = try await store.redis.zrangeByScore(hoursKey, minimum: String(end.milliseconds), maximum: "+inf", limit: 1).first {
                    let next = try await store.observations(
                        of: book, from: end, to: Timestamp(milliseconds: nextHour.score + SpreadSummary.Width.hour.milliseconds - 1), limit: 1)
                    corrupt += next.corrupt
                    following = next.values
                }
                let episodes = try await store.episodes(book: book, from: start, to: end.adding(milliseconds: -1))
                corrupt += episodes.corrupt
                let computed = SpreadSummary.buckets(
                    of: observations.values + following, width: width, maxGapSeconds: rules.maxGapSeconds, episodeStarts: episodes.values.map(\.startedAt))
                byStart[start] = computed.first { $0.start == start }
            }
            return (starts.compactMap { byStart[$0] }.filter { $0.samples > 0 }, corrupt)
        }
        noteCorrupt(corrupt)
        return summaries
    }

    /// Episodes of `book` (nil: every book) that started within `from...to`, ascending.
    func episodes(book: String?, from: Timestamp, to: Timestamp) async throws(APIError) -> [AlertEpisode] {
        let read = try await reading { store throws(RedisError) in try await store.episodes(book: book, from: from, to: to) }
        noteCorrupt(read.corrupt)
        return read.values
    }

    /// The episodes open now, ascending by start.
    func openEpisodes(book: String?) async throws(APIError) -> [AlertEpisode] {
        let read = try await reading { store throws(RedisError) in try await store.openEpisodes(book: book) }
        noteCorrupt(read.corrupt)
        return read.values
    }

    /// The store's version: a cached answer stands while it does.
    func version() async throws(APIError) -> Int64 {
        try await reading { store throws(RedisError) in try await store.version() }
    }
}

/// Keeps `SpreadLibrary.status` current: the books, newest observations, counters and open
/// episodes, read every `interval` on a connection of its own. When Redis cannot be reached
/// the status last read stays (its ages keep growing, so a stalled book still shows).
struct SpreadStatusFollower: Service {
    let library: SpreadLibrary
    let store: SpreadStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do throws(RedisError) {
                    try await refresh()
                    failing = false
                } catch {
                    if !failing { logger.warning("cannot read the spread monitor's status, showing the one held", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    func refresh() async throws(RedisError) {
        var status = SpreadStatus()
        status.books = try await store.books()
        status.latest = try await store.latest()
        status.counters = try await store.counters()
        // Corrupt entries are counted by the routes' reads, not again every refresh.
        status.openEpisodes = try await store.openEpisodes(book: nil).values
        library.setStatus(status)
    }
}

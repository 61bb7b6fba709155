/// Maps upstream records to published ones through a config's fields. A record whose
/// required field is missing or mistyped is skipped and counted, never published half-filled.
public struct RecordMapper: Sendable {
    public let fields: [FieldSpec]

    public init(fields: [FieldSpec]) {
        self.fields = fields
    }

    public struct Output: Sendable, Equatable {
        public var records: [JSONObject] = []
        /// Skipped records by `<problem>:<field>`, the first problem of each record.
        public var skipped: [String: Int] = [:]
    }

    /// Maps `records` in order; `source_rank` is each record's 1-based position in the input.
    /// `leading` members come first in every record (an `each` value: `book`).
    public func map(_ records: [JSONValue], leading: [(String, JSONValue)] = []) -> Output {
        var output = Output()
        output.records.reserveCapacity(records.count)
        nextRecord: for (index, record) in records.enumerated() {
            var mapped = JSONObject(leading)
            for field in fields {
                switch field.extract(from: record) {
                case .success(let value):
                    mapped.append(field.name, value)
                case .failure(let failure):
                    output.skipped["\(failure.problem.rawValue):\(field.name)", default: 0] += 1
                    continue nextRecord
                }
            }
            mapped.append(FetchedSnapshot.sourceRankField, .number(String(index + 1)))
            output.records.append(mapped)
        }
        return output
    }
}

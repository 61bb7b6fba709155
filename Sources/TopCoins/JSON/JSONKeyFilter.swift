/// Which object members a parse builds: everything, or only named keys (each with the filter
/// for its value). Arrays pass their filter on to their elements.
public indirect enum JSONKeyFilter: Sendable, Equatable {
    case everything
    case keys([String: JSONKeyFilter])

    /// The filter for the member `key`, or nil when the member is not kept.
    func member(_ key: String) -> JSONKeyFilter? {
        switch self {
        case .everything: .everything
        case .keys(let keys): keys[key]
        }
    }

    /// This filter widened to keep what `steps` reach (everything below their end).
    public func keeping(_ steps: some Collection<FieldPath.Step>) -> JSONKeyFilter {
        guard let first = steps.first else { return .everything }
        guard case .keys(var keys) = self else { return self }
        switch first {
        case .key(let key):
            keys[key] = (keys[key] ?? .keys([:])).keeping(steps.dropFirst())
            return .keys(keys)
        case .index:
            // Arrays are transparent: the element filter is this one.
            return keeping(steps.dropFirst())
        case .match(let key, _):
            keys[key] = .everything
            return JSONKeyFilter.keys(keys).keeping(steps.dropFirst())
        }
    }
}

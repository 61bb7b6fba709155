/// A config string whose `${NAME}` parts come from the environment at start-up (secrets) and
/// whose `${scope.name}` parts are filled per request (`${asset.symbol}`, `${window.to}`): a
/// history fetcher asks once per asset and per window with the same config. The two kinds stay
/// distinct by their spelling (a dot), and the environment's values are substituted once,
/// when the config is read, so a secret can never be mistaken for a placeholder.
public struct ConfigTemplate: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text(String)
        case placeholder(String)
    }

    public let parts: [Part]

    public init(parts: [Part]) {
        self.parts = parts
    }

    /// A template without placeholders.
    public init(_ text: String) {
        parts = [.text(text)]
    }

    /// Every placeholder name, in order of appearance.
    public var placeholders: [String] {
        parts.compactMap { if case .placeholder(let name) = $0 { name } else { nil } }
    }

    /// The text with each placeholder replaced by its value (empty when `values` lacks it; the
    /// config reader has checked that every placeholder is one the fetcher supplies).
    public func rendered(_ values: [String: String] = [:]) -> String {
        parts.reduce(into: "") { text, part in
            switch part {
            case .text(let literal): text += literal
            case .placeholder(let name): text += values[name] ?? ""
            }
        }
    }
}

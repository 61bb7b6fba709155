/// One JSON object of a config file being read: typed accessors that fail with the key's full
/// path, `${VAR}` substitution from the environment, and a check that no unknown key is left.
///
/// A class so nested readers can record which keys were read; used by one thread at start-up.
public final class ConfigObject {
    public let file: String
    public let path: String
    let object: JSONObject
    let environment: [String: String]
    private var readKeys: Set<String> = []
    private let substituted: SubstitutedValues

    /// Values taken from the environment, shared by a file's nested readers.
    private final class SubstitutedValues {
        var values: [String] = []
    }

    public init(file: String, path: String = "", object: JSONObject, environment: [String: String]) {
        self.file = file
        self.path = path
        self.object = object
        self.environment = environment
        self.substituted = SubstitutedValues()
    }

    private init(parent: ConfigObject, path: String, object: JSONObject) {
        self.file = parent.file
        self.path = path
        self.object = object
        self.environment = parent.environment
        self.substituted = parent.substituted
    }

    /// Every value substituted for a `${VAR}` so far: the secrets logs must never show.
    public var secrets: [String] { substituted.values }

    /// Parses a config file's text; the top level must be an object.
    public static func parse(file: String, bytes: [UInt8], environment: [String: String]) throws(ConfigError) -> ConfigObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError(file: file, keyPath: "", message: "\(error)")
        }
        guard case .object(let object) = value else {
            throw ConfigError(file: file, keyPath: "", message: "the top level must be a JSON object, found \(value.kindName)")
        }
        return ConfigObject(file: file, object: object, environment: environment)
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, keyPath: keyPath(key), message: message)
    }

    /// The raw value of `key`; JSON `null` counts as absent.
    public func value(_ key: String) -> JSONValue? {
        readKeys.insert(key)
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func required<T>(_ key: String, _ read: (String) throws(ConfigError) -> T?) throws(ConfigError) -> T {
        guard let value = try read(key) else { throw error(key, "is required") }
        return value
    }

    public func string(_ key: String, substitutingEnvironment: Bool = false) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw error(key, "must be a string, found \(value.kindName)") }
        return substitutingEnvironment ? try substitute(text, key: key) : text
    }

    public func requiredString(_ key: String, substitutingEnvironment: Bool = false) throws(ConfigError) -> String {
        try required(key) { (key) throws(ConfigError) in try string(key, substitutingEnvironment: substitutingEnvironment) }
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw error(key, "must be true or false, found \(value.kindName)") }
        return flag
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let literal) = value, let number = DecimalNumber(literal)?.integerValue, let integer = Int(exactly: number) else {
            throw error(key, "must be an integer, found \(value.kindName)")
        }
        guard range.contains(integer) else { throw error(key, "must be from \(range.lowerBound) to \(range.upperBound), found \(integer)") }
        return integer
    }

    public func requiredInteger(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try required(key) { (key) throws(ConfigError) in try integer(key, in: range) }
    }

    /// A number of seconds; fractions are allowed (tests use sub-second timeouts).
    public func seconds(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let literal) = value, let seconds = Double(literal) else {
            throw error(key, "must be a number of seconds, found \(value.kindName)")
        }
        guard range.contains(seconds) else { throw error(key, "must be from \(range.lowerBound) to \(range.upperBound), found \(literal)") }
        return seconds
    }

    public func object(_ key: String) throws(ConfigError) -> ConfigObject? {
        guard let value = value(key) else { return nil }
        guard case .object(let object) = value else { throw error(key, "must be an object, found \(value.kindName)") }
        return ConfigObject(parent: self, path: keyPath(key), object: object)
    }

    public func requiredObject(_ key: String) throws(ConfigError) -> ConfigObject {
        try required(key) { (key) throws(ConfigError) in try object(key) }
    }

    public func array(_ key: String) throws(ConfigError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw error(key, "must be an array, found \(value.kindName)") }
        return elements
    }

    /// The element at `index` of the array `key`, read as an object.
    public func element(_ key: String, _ index: Int, _ value: JSONValue) throws(ConfigError) -> ConfigObject {
        let elementPath = "\(keyPath(key))[\(index)]"
        guard case .object(let object) = value else {
            throw ConfigError(file: file, keyPath: elementPath, message: "must be an object, found \(value.kindName)")
        }
        return ConfigObject(parent: self, path: elementPath, object: object)
    }

    /// An object whose members are all strings, in file order (query parameters, headers).
    public func stringMap(_ key: String, substitutingEnvironment: Bool) throws(ConfigError) -> [(String, String)]? {
        guard let map = try object(key) else { return nil }
        var pairs: [(String, String)] = []
        for name in map.object.keys {
            pairs.append((name, try map.requiredString(name, substitutingEnvironment: substitutingEnvironment)))
        }
        return pairs
    }

    /// Fails on any key that no accessor asked for: a typo must not silently fall back to a default.
    public func rejectUnknownKeys() throws(ConfigError) {
        var seen: Set<String> = []
        for key in object.keys {
            guard readKeys.contains(key) else { throw error(key, "unknown key") }
            guard seen.insert(key).inserted else { throw error(key, "appears twice") }
        }
    }

    /// A string that may hold `placeholders` (see `ConfigTemplate`), the environment substituted.
    public func template(_ key: String, placeholders: Set<String>) throws(ConfigError) -> ConfigTemplate? {
        guard let text = try string(key) else { return nil }
        return try template(text, key: key, placeholders: placeholders)
    }

    public func requiredTemplate(_ key: String, placeholders: Set<String>) throws(ConfigError) -> ConfigTemplate {
        try required(key) { (key) throws(ConfigError) in try template(key, placeholders: placeholders) }
    }

    /// An object whose members are all template strings, in file order (query parameters, headers).
    public func templateMap(_ key: String, placeholders: Set<String>) throws(ConfigError) -> [(String, ConfigTemplate)]? {
        guard let map = try object(key) else { return nil }
        var pairs: [(String, ConfigTemplate)] = []
        for name in map.object.keys {
            pairs.append((name, try map.requiredTemplate(name, placeholders: placeholders)))
        }
        return pairs
    }

    /// Replaces each `${NAME}` with the environment variable NAME; an unset or empty variable is
    /// an error naming it, never a silent empty string.
    func substitute(_ text: String, key: String) throws(ConfigError) -> String {
        try template(text, key: key, placeholders: []).rendered()
    }

    /// `text` with each `${NAME}` replaced by the environment variable NAME (as `substitute`
    /// does) and each `${scope.name}` kept as a placeholder, which must be one of `placeholders`.
    func template(_ text: String, key: String, placeholders: Set<String>) throws(ConfigError) -> ConfigTemplate {
        var parts: [ConfigTemplate.Part] = []
        var literal = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                literal += rest[...dollar]
                rest = rest[afterDollar...]
                continue
            }
            literal += rest[..<dollar]
            let nameStart = rest.index(after: afterDollar)
            guard let end = rest[nameStart...].firstIndex(of: "}") else {
                throw error(key, "unclosed '${' in \"\(text)\"")
            }
            let name = String(rest[nameStart..<end])
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0 == "." || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
                throw error(key, "invalid variable name '\(name)'")
            }
            if name.contains(".") {
                guard placeholders.contains(name) else {
                    throw error(
                        key,
                        placeholders.isEmpty
                            ? "takes no placeholders, found ${\(name)}"
                            : "unknown placeholder ${\(name)}, expected one of \(placeholders.sorted().map { "${\($0)}" }.joined(separator: ", "))")
                }
                if !literal.isEmpty { parts.append(.text(literal)) }
                literal = ""
                parts.append(.placeholder(name))
            } else {
                guard let value = environment[name], !value.isEmpty else {
                    throw error(key, "environment variable \(name) is not set")
                }
                literal += value
                substituted.values.append(value)
            }
            rest = rest[rest.index(after: end)...]
        }
        literal += rest
        if !literal.isEmpty || parts.isEmpty { parts.append(.text(literal)) }
        return ConfigTemplate(parts: parts)
    }
}

import Testing

@testable import TopCoins

@Suite("ConfigObject")
struct ConfigObjectTests {
    static let file = "/etc/topcoins/test.json"

    func config(_ text: String, environment: [String: String] = [:]) throws -> ConfigObject {
        try ConfigObject.parse(file: Self.file, bytes: Array(text.utf8), environment: environment)
    }

    func configError(_ body: () throws(ConfigError) -> Void) -> ConfigError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Parsing the file

    @Test func topLevelMustBeAnObject() {
        let error = #expect(throws: ConfigError.self) { try config("[1]") }
        #expect(error?.file == Self.file)
        #expect(error?.keyPath == "")
        #expect(error?.message == "the top level must be a JSON object, found array")
        #expect(error?.description == "\(Self.file): the top level must be a JSON object, found array")
    }

    @Test func invalidJSONNamesTheByteOffset() {
        let error = #expect(throws: ConfigError.self) { try config(#"{"a":1,}"#) }
        #expect(error?.keyPath == "")
        #expect(error?.message.contains("invalid JSON at byte 7") == true)
    }

    @Test func errorDescriptionNamesFileAndKeyPath() {
        let error = ConfigError(file: "f.json", keyPath: "request.timeout_seconds", message: "must be a number of seconds, found string")
        #expect(error.description == "f.json: request.timeout_seconds: must be a number of seconds, found string")
    }

    // MARK: Typed accessors

    @Test func typedAccessorsReadValues() throws {
        let object = try config(#"{"s":"text","b":true,"i":42,"d":0.25,"o":{"k":"v"},"a":[1,2],"n":null}"#)
        #expect(try object.string("s") == "text")
        #expect(try object.bool("b") == true)
        #expect(try object.integer("i", in: 0...100) == 42)
        #expect(try object.seconds("d", in: 0...10) == 0.25)
        #expect(try object.object("o")?.string("k") == "v")
        #expect(try object.array("a") == [.number("1"), .number("2")])
        // null and absent both read as nil
        #expect(try object.string("n") == nil)
        #expect(try object.integer("absent", in: 0...1) == nil)
        try object.rejectUnknownKeys()
    }

    @Test(arguments: [
        (#"{"k":1}"#, "string", "must be a string, found number"),
        (#"{"k":"1"}"#, "bool", "must be true or false, found string"),
        (#"{"k":"60"}"#, "integer", "must be an integer, found string"),
        (#"{"k":1.5}"#, "integer", "must be an integer"),
        (#"{"k":true}"#, "seconds", "must be a number of seconds, found boolean"),
        (#"{"k":[]}"#, "object", "must be an object, found array"),
        (#"{"k":{}}"#, "array", "must be an array, found object"),
        (#"{"k":11}"#, "integer", "must be from 1 to 10, found 11"),
        (#"{"k":0}"#, "integer", "must be from 1 to 10, found 0"),
        (#"{"k":10.5}"#, "seconds", "must be from 0.0 to 10.0, found 10.5"),
    ])
    func wrongTypesNameTheKey(text: String, accessor: String, message: String) throws {
        let object = try config(text)
        let error = configError { () throws(ConfigError) in
            switch accessor {
            case "string": _ = try object.string("k")
            case "bool": _ = try object.bool("k")
            case "integer": _ = try object.integer("k", in: 1...10)
            case "seconds": _ = try object.seconds("k", in: 0...10)
            case "object": _ = try object.object("k")
            default: _ = try object.array("k")
            }
        }
        #expect(error?.keyPath == "k")
        #expect(error?.message.hasPrefix(message) == true, "message was \(error?.message ?? "nil")")
    }

    @Test func requiredAccessorsReportMissingKeys() throws {
        let object = try config(#"{"nested":{"n":null}}"#)
        #expect(configError { () throws(ConfigError) in _ = try object.requiredString("name") }?.message == "is required")
        let nested = try object.requiredObject("nested")
        let error = configError { () throws(ConfigError) in _ = try nested.requiredInteger("n", in: 0...1) }
        #expect(error?.keyPath == "nested.n")
        #expect(error?.message == "is required")
        #expect(configError { () throws(ConfigError) in _ = try object.requiredObject("other") }?.keyPath == "other")
    }

    @Test func nestedObjectsCarryTheirFullKeyPath() throws {
        let object = try config(#"{"request":{"inner":{"deep":1}}}"#)
        let request = try #require(try object.object("request"))
        let inner = try #require(try request.object("inner"))
        #expect(request.path == "request")
        #expect(inner.path == "request.inner")
        #expect(inner.keyPath("deep") == "request.inner.deep")
        #expect(inner.error("deep", "x").description == "\(Self.file): request.inner.deep: x")
    }

    @Test func unknownKeysAreNamedWithTheirFullPath() throws {
        let object = try config(#"{"request":{"url":"x","timout_seconds":5},"extra":1}"#)
        let request = try #require(try object.object("request"))
        _ = try request.string("url")
        _ = try request.seconds("timeout_seconds", in: 0...10)
        let nested = configError { () throws(ConfigError) in try request.rejectUnknownKeys() }
        #expect(nested?.keyPath == "request.timout_seconds")
        #expect(nested?.message == "unknown key")
        let top = configError { () throws(ConfigError) in try object.rejectUnknownKeys() }
        #expect(top?.keyPath == "extra")
    }

    @Test func aKeyGivenTwiceIsAnError() throws {
        let object = try config(#"{"source":"a","source":"b"}"#)
        _ = try object.string("source")
        let error = configError { () throws(ConfigError) in try object.rejectUnknownKeys() }
        #expect(error?.keyPath == "source")
        #expect(error?.message == "appears twice")
    }

    @Test func aKeyReadAsAbsentNullIsNotUnknown() throws {
        let object = try config(#"{"pagination":null}"#)
        #expect(try object.object("pagination") == nil)
        try object.rejectUnknownKeys()
    }

    @Test func arrayElementsAreNamedByIndex() throws {
        let object = try config(#"{"retention":[{"every":"hour"},7]}"#)
        let elements = try #require(try object.array("retention"))
        let first = try object.element("retention", 0, elements[0])
        #expect(first.path == "retention[0]")
        #expect(try first.string("every") == "hour")
        let error = configError { () throws(ConfigError) in _ = try object.element("retention", 1, elements[1]) }
        #expect(error?.keyPath == "retention[1]")
        #expect(error?.message == "must be an object, found number")
        _ = try first.string("unknown")
        let typo = try config(#"{"retention":[{"evry":"hour"}]}"#)
        let typoElement = try typo.element("retention", 0, try #require(try typo.array("retention"))[0])
        _ = try typoElement.string("every")
        #expect(configError { () throws(ConfigError) in try typoElement.rejectUnknownKeys() }?.keyPath == "retention[0].evry")
    }

    @Test func stringMapKeepsFileOrderAndNamesBadMembers() throws {
        let object = try config(#"{"query":{"start":"1","limit":"5000","convert":"USD"},"headers":{"X-Key":5}}"#)
        let pairs = try #require(try object.stringMap("query", substitutingEnvironment: false))
        #expect(pairs.map(\.0) == ["start", "limit", "convert"])
        #expect(pairs.map(\.1) == ["1", "5000", "USD"])
        let error = configError { () throws(ConfigError) in _ = try object.stringMap("headers", substitutingEnvironment: false) }
        #expect(error?.keyPath == "headers.X-Key")
        #expect(error?.message == "must be a string, found number")
    }

    // MARK: ${VAR} substitution

    func substituted(_ value: String, _ environment: [String: String]) throws -> String? {
        var text: [UInt8] = Array(#"{"k":"#.utf8)
        JSONWriter.appendString(value, to: &text)
        text += Array("}".utf8)
        let object = try ConfigObject.parse(file: Self.file, bytes: text, environment: environment)
        return try object.string("k", substitutingEnvironment: true)
    }

    @Test(arguments: [
        ("${A}", "alpha"),
        ("Apikey ${A}", "Apikey alpha"),
        ("${A}${B}", "alphabeta"),
        ("x${A}y${B}z${A}", "xalphaybetazalpha"),
        ("$A", "$A"),  // no brace: left alone
        ("price $5", "price $5"),
        ("$", "$"),
        ("ends with $", "ends with $"),
        ("$$", "$$"),
        ("$${A}", "$alpha"),
        ("{A}", "{A}"),
        ("${LONG_NAME_2}", "v2"),
        ("no variables", "no variables"),
        ("${A}$", "alpha$"),
        ("é${A}é", "éalphaé"),
    ])
    func substitutesEnvironmentVariables(text: String, expected: String) throws {
        let environment = ["A": "alpha", "B": "beta", "LONG_NAME_2": "v2"]
        #expect(try substituted(text, environment) == expected)
    }

    @Test func withoutSubstitutionTheTextIsLiteral() throws {
        let object = try config(#"{"k":"${A}"}"#, environment: ["A": "alpha"])
        #expect(try object.string("k") == "${A}")
        #expect(object.secrets.isEmpty)
    }

    @Test func unsetVariableIsAnErrorNamingTheVariableAndTheKeyPath() throws {
        let object = try config(#"{"request":{"headers":{"X-CMC_PRO_API_KEY":"${CMC_API_KEY}"}}}"#, environment: ["OTHER": "x"])
        let request = try #require(try object.object("request"))
        let error = configError { () throws(ConfigError) in _ = try request.stringMap("headers", substitutingEnvironment: true) }
        #expect(error?.keyPath == "request.headers.X-CMC_PRO_API_KEY")
        #expect(error?.message.contains("CMC_API_KEY") == true)
        #expect(error?.message.contains("not set") == true)
        #expect(error?.description.hasPrefix("\(Self.file): request.headers.X-CMC_PRO_API_KEY: ") == true)
    }

    @Test func emptyVariableIsAnErrorToo() {
        let error = #expect(throws: ConfigError.self) { try substituted("Apikey ${KEY}", ["KEY": ""]) }
        #expect(error?.keyPath == "k")
        #expect(error?.message.contains("KEY") == true)
    }

    @Test func theSecondOfSeveralVariablesBeingUnsetIsNamed() {
        let error = #expect(throws: ConfigError.self) { try substituted("${A}:${MISSING}", ["A": "alpha"]) }
        #expect(error?.message.contains("MISSING") == true)
        #expect(error?.message.contains("alpha") == false)
    }

    @Test(arguments: ["${A", "x ${", "${}", "${A-B}", "${A B}", "${é}", "${$A}"])
    func malformedReferencesAreErrors(text: String) {
        let error = #expect(throws: ConfigError.self) { try substituted(text, ["A": "alpha", "A-B": "x", "A B": "y", "é": "z"]) }
        #expect(error?.keyPath == "k")
    }

    @Test func substitutedValuesAreCollectedAsSecretsAcrossNestedObjects() throws {
        let object = try config(
            #"{"url":"https://h/${PATH_PART}","request":{"headers":{"K":"Apikey ${KEY}","Plain":"x"}}}"#,
            environment: ["KEY": "s3cr3t", "PATH_PART": "p"])
        _ = try object.string("url", substitutingEnvironment: true)
        let request = try #require(try object.object("request"))
        let headers = try #require(try request.stringMap("headers", substitutingEnvironment: true))
        #expect(headers.map(\.1) == ["Apikey s3cr3t", "x"])
        #expect(object.secrets == ["p", "s3cr3t"])
        #expect(request.secrets == object.secrets)
    }

    // MARK: ConfigFile

    @Test func loadingAMissingFileNamesIt() {
        let path = "/nonexistent/dir/topcoins-config.json"
        let error = #expect(throws: ConfigError.self) {
            try ConfigFile.load(path, environment: [:]) { config throws(ConfigError) in config.file }
        }
        #expect(error?.file == path)
        #expect(error?.message.hasPrefix("cannot read the file") == true)
    }

    @Test func loadingAFileParsesIt() throws {
        let path = PackagePaths.file("Config/demo/upstream/errors/cmc-401-invalid-key.json")
        let keys = try ConfigFile.load(path, environment: [:]) { config throws(ConfigError) in config.object.keys }
        #expect(keys == ["status"])
    }
}

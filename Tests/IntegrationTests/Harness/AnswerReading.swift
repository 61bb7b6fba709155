@testable import TopCoins

/// What the API suites read out of a JSON answer: the whole document, a list (empty when the
/// value is not one, so a missing list fails the count the test then checks), and a scalar's
/// digits or text as served.
protocol ReadsJSONAnswers {}

extension ReadsJSONAnswers {
    static func json(_ response: HTTPResponse) throws -> JSONValue { try JSONParser.parse(response.body) }

    static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { return elements }
        return []
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?, .number(let text)?: text
        default: nil
        }
    }
}

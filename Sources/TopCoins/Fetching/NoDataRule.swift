/// How an upstream says it has no data for the item asked (CryptoCompare: `Response: "Error"`
/// with a `Message` saying the pair "does not exist", under HTTP 200; CoinGecko: 404 `{"error":
/// "coin not found"}`): a failed response whose text at `path` contains `contains`, and whose
/// status is `status` when the config names one.
public struct NoDataRule: Sendable, Equatable {
    public let path: FieldPath
    public let contains: String
    public let status: Int?

    public init(path: FieldPath, contains: String, status: Int? = nil) {
        self.path = path
        self.contains = contains
        self.status = status
    }

    /// The upstream's message when the response is such an answer, else nil.
    public func match(status: Int, body: [UInt8]) -> String? {
        guard self.status.map({ $0 == status }) ?? true, let document = try? JSONParser.parse(body),
            case .string(let message)? = path.resolve(in: document), message.contains(contains)
        else { return nil }
        return message
    }
}

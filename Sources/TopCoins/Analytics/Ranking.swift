/// Competition ranking ("1224"), as DESIGN.md ranks volatility and returns: the values in the
/// order given (highest first), equal values sharing the lower rank.
enum Ranking {
    static func competitionRanks(_ descending: [Double]) -> [Int] {
        var ranks: [Int] = []
        ranks.reserveCapacity(descending.count)
        for (index, value) in descending.enumerated() {
            ranks.append(index > 0 && descending[index - 1] == value ? ranks[index - 1] : index + 1)
        }
        return ranks
    }
}

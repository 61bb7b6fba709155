/// The version of TopCoins, the one place it is written: every executable's `--version`
/// prints it.
public enum TopCoinsVersion {
    public static let current = "1.0.0"
}

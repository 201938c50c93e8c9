/// SplitMix64 (Steele, Lea and Flood 2014): a small seeded generator, so the demo and the benchmark population
/// are the same on every run and every machine.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0 ..< n (the modulo bias is irrelevant for synthetic data).
    public mutating func below(_ n: UInt64) -> Int64 { Int64(next() % n) }
}

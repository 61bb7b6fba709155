import TopCoins

await FetcherProgram.main(executable: "rank-fetcher")

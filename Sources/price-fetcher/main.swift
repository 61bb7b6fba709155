import TopCoins

await FetcherProgram.main(executable: "price-fetcher")

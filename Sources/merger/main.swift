import TopCoins

await MergerProgram.main()

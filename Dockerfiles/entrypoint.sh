#!/bin/sh
# topcoins SERVICE [ARGS...]: runs one TopCoins executable with its config from /app/Config.
# A fetcher whose API key is not set runs on the demo config (the fake upstream's payloads);
# book-fetcher does unless BITSO_LIVE=1, exchange-fetcher unless COINGECKO_API_KEY is set or
# COINGECKO_LIVE=1 (CoinGecko answers keyless too).
set -eu
service=$1
shift
config="/app/Config/$service.json"
case "$service" in
  price-fetcher) [ -n "${CMC_API_KEY:-}" ] || config="/app/Config/demo/$service.json" ;;
  rank-fetcher|history-fetcher) [ -n "${CRYPTOCOMPARE_API_KEY:-}" ] || config="/app/Config/demo/$service.json" ;;
  # Bitso's public API needs no key: the live books only when asked for, so a keyless stack
  # stays offline.
  book-fetcher) [ "${BITSO_LIVE:-}" = "1" ] || config="/app/Config/demo/$service.json" ;;
  exchange-fetcher) [ -n "${COINGECKO_API_KEY:-}" ] || [ "${COINGECKO_LIVE:-}" = "1" ] || config="/app/Config/demo/$service.json" ;;
  fake-upstream) exec /usr/local/bin/fake-upstream --host 0.0.0.0 --port 6680 --data /app/Config/demo/upstream "$@" ;;
  merger|spread-monitor|http-api) ;;
  *) echo "usage: topcoins price-fetcher|rank-fetcher|history-fetcher|book-fetcher|exchange-fetcher|merger|spread-monitor|http-api|fake-upstream [ARGS...]" >&2; exit 2 ;;
esac
exec "/usr/local/bin/$service" --config "$config" "$@"

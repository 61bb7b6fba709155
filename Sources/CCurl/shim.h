#ifndef TOPCOINS_CCURL_SHIM_H
#define TOPCOINS_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
   one typed wrapper per argument kind. */
static inline CURLcode topcoins_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode topcoins_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode topcoins_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
typedef size_t (*topcoins_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
static inline CURLcode topcoins_curl_setopt_data_callback(CURL *curl, CURLoption option, topcoins_curl_data_callback value) {
    return curl_easy_setopt(curl, option, value);
}
typedef int (*topcoins_curl_progress_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode topcoins_curl_setopt_progress_callback(CURL *curl, topcoins_curl_progress_callback value) {
    return curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, value);
}
static inline CURLcode topcoins_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}
#endif

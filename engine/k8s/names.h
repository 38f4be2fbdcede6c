// The API server's rules for names, label and annotation keys and values, ConfigMap keys and
// quantities (k8s.io/apimachinery/pkg/util/validation and pkg/api/resource). Each check returns ""
// when the text is valid, otherwise what is wrong in words a user can act on. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace converge::k8s {

inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kConfigMapKeyMaxLength = 253;

// Lowercase RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
std::string CheckDns1123Label(std::string_view s);
// RFC 1035 label: as a 1123 label, but starting with a letter.
std::string CheckDns1035Label(std::string_view s);
// Lowercase RFC 1123 subdomain: labels joined by '.', at most 253 characters.
std::string CheckDns1123Subdomain(std::string_view s);
// A name usable as one URL path segment: not "." or "..", no '/' or '%'.
std::string CheckPathSegmentName(std::string_view s);
// A label or annotation key: [prefix/]name, prefix a DNS subdomain, name at most 63 of
// [A-Za-z0-9_.-] starting and ending alphanumeric.
std::string CheckQualifiedName(std::string_view s);
// A label value: empty, or at most 63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
std::string CheckLabelValue(std::string_view s);
// A ConfigMap or Secret key: [-._a-zA-Z0-9]+, at most 253, not "." or "..".
std::string CheckConfigMapKey(std::string_view s);
// A resource quantity: a decimal number with an optional suffix (m, k, M, G, Ki, Mi, Gi, e3, ...).
std::string CheckQuantity(std::string_view s);

// `s` made into a DNS-1123 name as close to it as possible ("Café_Upper" -> "caf-upper"), for
// suggestions; "" when nothing usable is left.
std::string SuggestDnsName(std::string_view s, size_t max_length);

}  // namespace converge::k8s

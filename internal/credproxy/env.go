package credproxy

import (
	"bytes"
	"errors"
	"os"
)

// systemBundles are where Linux distributions keep the system's CA bundle,
// in the order Go's crypto/x509 looks; SSL_CERT_FILE, when set, comes
// first, as it does for Go.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine
}

// CABundle returns what the sandboxed side trusts: the system's CA bundle
// (the one SSL_CERT_FILE names, when set) followed by the per-launch CA.
// Without bindings nothing is intercepted and it returns nil.
func (p *Proxy) CABundle() ([]byte, error) {
	if p.ca == nil {
		return nil, nil
	}
	paths := systemBundles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		paths = append([]string{f}, paths...)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var out bytes.Buffer
		out.Write(bytes.TrimRight(data, "\n"))
		out.WriteString("\n")
		out.Write(p.ca.certPEM)
		return out.Bytes(), nil
	}
	return nil, errors.New("no system CA bundle found (set SSL_CERT_FILE)")
}

// caVars are the variables that name a CA bundle for the common clients:
// OpenSSL and Go, Node, Python requests, curl, git, pip, npm, cargo,
// Deno, the AWS CLI.
var caVars = []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
	"GIT_SSL_CAINFO", "PIP_CERT", "NPM_CONFIG_CAFILE", "CARGO_HTTP_CAINFO", "DENO_CERT", "AWS_CA_BUNDLE"}

// proxyVars are the variables that point clients at the proxy, in both
// cases (curl reads only the lower-case http_proxy).
var proxyVars = []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}

// Env returns the variables the child needs: each binding's placeholder,
// the proxy variables (NO_PROXY empty, so that nothing bypasses it, and
// NODE_USE_ENV_PROXY=1, without which Node's fetch ignores them) and, when
// caBundle is not empty, the CA variables naming that file.
func (p *Proxy) Env(caBundle string) []string {
	var env []string
	for _, b := range p.all {
		env = append(env, b.Var+"="+b.Placeholder)
	}
	for _, v := range proxyVars {
		env = append(env, v+"="+p.URL())
	}
	env = append(env, "NO_PROXY=", "no_proxy=", "NODE_USE_ENV_PROXY=1")
	if caBundle != "" {
		for _, v := range caVars {
			env = append(env, v+"="+caBundle)
		}
	}
	return env
}

// EnvNames lists the names of every variable Env may set besides the
// placeholders, for a caller that must clear or allow them.
func EnvNames() []string {
	names := append([]string(nil), proxyVars...)
	names = append(names, "NO_PROXY", "no_proxy", "NODE_USE_ENV_PROXY")
	return append(names, caVars...)
}

// Redact: every secret shape the bundle may carry is replaced, the words
// around it stay (an operator's log must still read as a log), and harmless
// look-alikes ("using password: YES", "Failed password for root") are kept.
#include "mamori/logs/redact.h"

#include <gtest/gtest.h>

namespace mamori::logs {
namespace {

struct Case {
  std::string text;
  std::string secret;  // must be gone
  std::string kept;    // must still be there
};

TEST(Redact, RemovesEverySecretShape) {
  const std::vector<Case> cases = {
      {"DATABASE_URL=postgres://app:Hunter2pw@db.local:5432/app", "Hunter2pw", "db.local:5432/app"},
      {"connect mysql://root:s3cr3t-Pa55@127.0.0.1/wp failed", "s3cr3t-Pa55",
       "127.0.0.1/wp failed"},
      {"redis://:onlypass99@cache:6379/0", "onlypass99", "cache:6379"},
      {"amqp://u:we@rd@mq/vhost", "we@rd", "mq/vhost"},
      {"fetch https://deploy:ghtoken123@git.example.org/repo.git", "ghtoken123", "git.example.org"},
      {"host=db port=5432 user=app password=pgpass-77 dbname=app", "pgpass-77", "dbname=app"},
      {"Authorization: Bearer abc.def-ghi_12345", "abc.def-ghi_12345", "Authorization"},
      {"authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "authorization"},
      {"curl -H 'Authorization: token 0123456789abcdef' https://x", "0123456789abcdef",
       "https://x"},
      {"Proxy-Authorization: Digest username123abc", "username123abc", "Proxy-Authorization"},
      {"header was bearer QWERTYUIOPASDFGH1234", "QWERTYUIOPASDFGH1234", "header was"},
      {"OPENAI key sk-proj-AbCdEfGhIjKlMnOpQrStUv used", "sk-proj-AbCdEfGhIjKlMnOpQrStUv", "used"},
      {"token ghp_0123456789abcdefghijABCDEFGHIJ0123 pushed",
       "ghp_0123456789abcdefghijABCDEFGHIJ0123", "pushed"},
      {"pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789",
       "pat"},
      {"gitlab glpat-AbCdEfGhIj0123456789", "glpat-AbCdEfGhIj0123456789", "gitlab"},
      {"slack xoxb-1234567890-0987654321-AbCdEfGh", "xoxb-1234567890-0987654321-AbCdEfGh", "slack"},
      {"aws AKIAIOSFODNN7EXAMPLE region", "AKIAIOSFODNN7EXAMPLE", "region"},
      {"google AIzaSyA1234567890abcdefghijklmnopqrstu ok", "AIzaSyA1234567890abcdefghijklmnopqrstu",
       "ok"},
      {"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX3h5eg rejected",
       "eyJzdWIiOiIxMjM0In0", "rejected"},
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\nabcdef\n-----END RSA PRIVATE "
       "KEY-----\nafter",
       "MIIEowIBAAKCAQEA7x", "after"},
      {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA truncated", "b3BlbnNzaC1rZXk",
       "[REDACTED PRIVATE KEY]"},
      {"-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0B -----END PRIVATE KEY-----",
       "MIIEvQIBADANBgkqhkiG9w0B", "PRIVATE KEY"},
      {"db_password=\"quoted pass word\" next=1", "quoted pass word", "next=1"},
      {"SMTP_PASSWD='single q' x", "single q", "x"},
      {"export API_KEY=abc123xyz; run", "abc123xyz", "run"},
      {"?user=bob&api_key=k3y999&page=2", "k3y999", "page=2"},
      {"client_secret=cs-00112233 grant", "cs-00112233", "grant"},
      {"  password: yamlpass1", "yamlpass1", "password:"},
      {"secret_key_base: 0a1b2c3d4e5f", "0a1b2c3d4e5f", "secret_key_base"},
      {"X-Auth-Token: tok-998877", "tok-998877", "X-Auth-Token"},
      {R"({"user":"a","password":"js0npass","n":1})", "js0npass", R"("n":1)"},
      {R"({"apiKey": "camelK3y", "token":12345678})", "camelK3y", "apiKey"},
      {R"({"access_token": "esc\"aped\"tok"})", "aped", "access_token"},
      {"CREATE USER 'wp'@'localhost' IDENTIFIED BY 'sqlpass!';", "sqlpass!", "CREATE USER"},
      {"mysqldump -u root -pRootPw9 wordpress > dump.sql", "RootPw9", "wordpress > dump.sql"},
      {"restic --password hunter22 backup /srv", "hunter22", "backup /srv"},
  };
  for (const auto& c : cases) {
    size_t n = 0;
    const std::string out = Redact(c.text, &n);
    EXPECT_EQ(out.find(c.secret), std::string::npos) << c.text << "\n -> " << out;
    EXPECT_NE(out.find(c.kept), std::string::npos) << c.text << "\n -> " << out;
    EXPECT_GE(n, 1u) << c.text;
    EXPECT_NE(out.find("REDACTED"), std::string::npos) << out;
  }
}

TEST(Redact, KeepsOrdinaryLogText) {
  for (std::string line : {
           "Access denied for user 'root'@'localhost' (using password: YES)",
           "Access denied for user 'root'@'localhost' (using password: NO)",
           "Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2",
           "InnoDB: Failed to read page 27258 from file './wp/wp_options.ibd'",
           "connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused)",
           "GET https://example.org/index.php HTTP/1.1 200",
           "token bucket refilled, 5 tokens left",
       }) {
    size_t n = 0;
    EXPECT_EQ(Redact(line, &n), line);
    EXPECT_EQ(n, 0u) << line;
  }
}

TEST(Redact, IsStableWhenAppliedTwice) {
  const std::string once = Redact("password=x1 url=https://u:p4ss@h/ Bearer QWERTYUIOP123456");
  EXPECT_EQ(Redact(once), once);
}

}  // namespace
}  // namespace mamori::logs

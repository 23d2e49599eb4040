hyperfine -N --style basic --output=null --warmup 20 --runs 200 --export-json $1.json /bin/true ./empty "env LLM_SECRETS_SOCKET=/nonexistent llms list" "llms exec -i X=k -- /bin/true" >/dev/null 2>&1
grep '"median"' $1.json

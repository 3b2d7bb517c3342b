#!/usr/bin/env bash
# Publish frontend/ to the deployed stack: config.js from the stack outputs, then S3 + CloudFront.
# Usage: scripts/deploy_frontend.sh STACK_NAME
set -euo pipefail
stack=${1:?usage: scripts/deploy_frontend.sh STACK_NAME}
cd "$(dirname "$0")/.."
output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
page=$(output StatusPageUrl)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -r frontend/. "$build/"
cat > "$build/config.js" <<JS
window.MEDIAFLOW_CONFIG = {
  apiUrl: "$(output StatusApiUrl)",
  local: false,
  auth: {domain: "$(output UserPoolDomain)", clientId: "$(output UserPoolClientId)", redirectUri: "$page"}
};
JS
aws s3 sync --delete "$build/" "s3://$(output FrontendBucketName)/"
aws cloudfront create-invalidation --distribution-id "$(output FrontendDistributionId)" --paths "/*" >/dev/null
echo "Status page: $page"

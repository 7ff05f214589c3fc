"""UnifiedApi, as an attacker meets it: requests evaluated against the synthesized WAF, listener and policies.

A small evaluator reads the example stack's template and decides, layer by
layer, what happens to one HTTPS request sent to the public host name. Each
layer models only what the template configures and what AWS documents:

- **WAF** (``AWS::WAFv2::WebACL``): rules in priority order, first terminating
  match wins, else the default action (AWS WAF developer guide, "Web ACL rule
  and rule group evaluation"). Implemented: ``ByteMatchStatement`` on
  ``Headers`` keys (each key inspected, after the text transformations) and on
  ``SingleHeader``. A rate-based rule never matches one request; the managed
  rule groups (IP reputation, known bad inputs, common rule set) look for bad
  addresses and attack payloads, which no request here carries, so they are
  modelled as not matching. Any other statement type fails the test instead of
  being guessed.
- **ALB HTTPS listener** (``Listener`` + ``ListenerRule``): rules by priority,
  all conditions of a rule must match, any value of a condition may; else the
  default action (Elastic Load Balancing user guide, "Listener rules for your
  Application Load Balancer"). ``host-header`` values are compared without
  regard to case and may use ``*``/``?``; ``http-header`` names without regard
  to case. Other condition types fail the test.
- **CloudFront** (``cloudfront=True`` only): accepts a viewer request whose Host
  is an alternate domain name or the distribution's own domain name, forwards
  every viewer header including Host (origin request policy ``AllViewer``) and
  sets the origin custom headers, replacing a viewer header of the same name.
- **API Gateway through the execute-api endpoint** (the ALB preserves Host).
  Routing, after "Invoke a private API" (API Gateway developer guide): a Host
  equal to a private custom domain name that is associated with the endpoint
  goes through that domain name, whose base path mappings pick API and stage
  by the first path segment; a Host ``<api-id>.execute-api.<region>.amazonaws.com``
  or an ``x-apigw-api-id`` header invokes that private API directly, with the
  first path segment as the stage. When a request could be read both ways
  (the custom domain Host plus ``x-apigw-api-id``), both readings are
  evaluated and each must be refused. A directly named stage is assumed to
  exist (a team may deploy ``test`` or ``admin`` stages outside this stack).
- **Policies**, evaluated as IAM does (explicit deny wins, then an allow, else
  implicit deny) for an anonymous caller: the VPC endpoint policy for every
  resource the call touches (no policy means full access), the domain name's
  policy for the domain name ARN, the API's resource policy for
  ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>``
  ("Control access to private APIs with VPC endpoint policies", Examples 4 and
  5; "API Gateway resource policy examples"). Request context: ``aws:SourceVpce``
  is the endpoint; ``execute-api:viaDomainArn`` is set only for a call through
  a custom domain name (Service Authorization Reference for API Gateway: the
  key applies to the ``execute-api-general`` resource). Condition operators
  implemented: ``ArnEquals``/``ArnLike``/``StringEquals``/``StringLike`` (absent
  key: no match) and ``StringNotEquals``/``ArnNotEquals``/``ArnNotLike`` (absent
  key: match); others fail the test.

What it cannot show: that AWS behaves as documented. The table is the claim
the docs page makes; a deployment test (docs/unified-api.md) checks it live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.stack_kit import synth_example

MODULE = "blueprints.stacks.unified_api"
REGION = "us-east-1"
ACCOUNT = "111111111111"
ENDPOINT_ID = "vpce-0123456789abcdef0"
DOMAIN_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:/domainnames/api.example.com+a1b2c3"
ORIGIN_SECRET = "s3cr3t-origin-value"
DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net"
ALB_DNS = "unified-1234567890.us-east-1.elb.amazonaws.com"


@dataclass(frozen=True)
class Request:
    host: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass(frozen=True)
class Route:
    api: str  # logical id of the AWS::ApiGateway::RestApi
    stage: str
    path: str
    via_domain: str | None


@dataclass
class Verdict:
    refused_by: set[str]
    reached: list[Route]


def _wildcard(pattern: str, *, case: bool = True) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", 0 if case else re.IGNORECASE)


class Stack:
    """The example stack's template, with its intrinsic functions resolved to fixed fake values."""

    def __init__(self, template: Template) -> None:
        self.resources: dict[str, Any] = template.to_json()["Resources"]
        self.api_ids = {lid: f"{lid[:6].lower()}0api" for lid in self._of("AWS::ApiGateway::RestApi")}

    def _of(self, type_: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_}

    def one(self, type_: str) -> dict[str, Any]:
        (props,) = [v.get("Properties", {}) for v in self._of(type_).values()]
        return props

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            return self._get_att(*value["Fn::GetAtt"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            joined = separator.join(str(self.resolve(p)) for p in parts)
            # A Secrets Manager dynamic reference resolves to the secret's value at deploy time.
            return ORIGIN_SECRET if joined.startswith("{{resolve:secretsmanager:") else joined
        if len(value) == 1 and next(iter(value)).startswith("Fn::"):
            raise NotImplementedError(f"intrinsic not modelled: {value}")
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": ""}
        if name in pseudo:
            return pseudo[name]
        type_ = self.resources[name]["Type"]
        if type_ == "AWS::EC2::VPCEndpoint":
            return ENDPOINT_ID
        if type_ == "AWS::ApiGateway::RestApi":
            return self.api_ids[name]
        if type_ == "AWS::ApiGateway::Stage":  # Ref of a stage is its name
            return str(self.resources[name]["Properties"]["StageName"])
        if type_ == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"
        return f"ref-{name}"

    def _get_att(self, name: str, attribute: str) -> str:
        if (self.resources[name]["Type"], attribute) == ("AWS::ApiGateway::DomainNameV2", "DomainNameArn"):
            return DOMAIN_ARN
        if (self.resources[name]["Type"], attribute) == ("AWS::ElasticLoadBalancingV2::LoadBalancer", "DNSName"):
            return ALB_DNS
        return f"{name}.{attribute}"

    # --- WAF ----------------------------------------------------------------------------------------------------

    def waf_blocks(self, request: Request) -> bool:
        acl = self.one("AWS::WAFv2::WebACL")
        for rule in sorted(acl["Rules"], key=lambda r: r["Priority"]):
            if "OverrideAction" in rule:  # a managed rule group: see the module docstring
                assert set(rule["Statement"]) == {"ManagedRuleGroupStatement"}, rule["Name"]
                continue
            if self._waf_statement(rule["Statement"], request):
                (action,) = rule["Action"]
                if action == "Block":
                    return True
                if action == "Allow":
                    return False
        (default,) = acl["DefaultAction"]
        return default == "Block"

    @staticmethod
    def _waf_statement(statement: dict[str, Any], request: Request) -> bool:
        ((kind, body),) = statement.items()
        if kind == "RateBasedStatement":
            return False  # one request is never over a rate of at least 10 per window
        if kind != "ByteMatchStatement":
            raise NotImplementedError(f"WAF statement not modelled: {kind}")
        transforms = [t["Type"] for t in sorted(body["TextTransformations"], key=lambda t: t["Priority"])]
        assert set(transforms) <= {"NONE", "LOWERCASE"}, transforms

        def transform(text: str) -> str:
            return text.lower() if "LOWERCASE" in transforms else text

        ((component, options),) = body["FieldToMatch"].items()
        if component == "Headers":
            assert options["MatchPattern"] == {"All": {}} and options["MatchScope"] == "KEY", options
            candidates = [*list(request.headers), "host"]
        elif component == "SingleHeader":
            wanted = options["Name"].lower()
            candidates = [v for k, v in request.headers.items() if k.lower() == wanted]
        else:
            raise NotImplementedError(f"WAF field not modelled: {component}")
        needle, position = body["SearchString"], body["PositionalConstraint"]
        tests = {
            "EXACTLY": lambda text: text == needle,
            "CONTAINS": lambda text: needle in text,
            "STARTS_WITH": lambda text: text.startswith(needle),
        }
        return any(tests[position](transform(candidate)) for candidate in candidates)

    # --- ALB ------------------------------------------------------------------------------------------------------

    def listener_forwards(self, request: Request) -> bool:
        listeners = {k: v["Properties"] for k, v in self._of("AWS::ElasticLoadBalancingV2::Listener").items()}
        ((https_id, https),) = [(k, p) for k, p in listeners.items() if p["Port"] == 443]
        rules = [
            v["Properties"]
            for v in self._of("AWS::ElasticLoadBalancingV2::ListenerRule").values()
            if v["Properties"]["ListenerArn"] == {"Ref": https_id}
        ]
        for rule in sorted(rules, key=lambda r: r["Priority"]):
            if all(self._alb_condition(c, request) for c in rule["Conditions"]):
                return self._forwards(rule["Actions"])
        return self._forwards(https["DefaultActions"])

    def _alb_condition(self, condition: dict[str, Any], request: Request) -> bool:
        if condition["Field"] == "host-header":
            values = self.resolve(condition["HostHeaderConfig"]["Values"])
            return any(_wildcard(v, case=False).match(request.host) for v in values)
        if condition["Field"] == "http-header":
            config = condition["HttpHeaderConfig"]
            values = self.resolve(config["Values"])
            sent = [v for k, v in request.headers.items() if k.lower() == config["HttpHeaderName"].lower()]
            return any(_wildcard(v, case=False).match(s) for v in values for s in sent)
        raise NotImplementedError(f"listener condition not modelled: {condition['Field']}")

    def _forwards(self, actions: list[dict[str, Any]]) -> bool:
        (action,) = actions
        assert action["Type"] in ("forward", "fixed-response"), action
        return bool(action["Type"] == "forward" and self.resolve(action["TargetGroupArn"]))

    # --- CloudFront -----------------------------------------------------------------------------------------------

    def through_cloudfront(self, viewer: Request) -> Request | None:
        config = self.one("AWS::CloudFront::Distribution")["DistributionConfig"]
        if viewer.host.lower() not in [*config["Aliases"], DISTRIBUTION_DOMAIN]:
            return None
        assert config["DefaultCacheBehavior"]["OriginRequestPolicyId"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"
        (origin,) = config["Origins"]
        headers = dict(viewer.headers)
        for custom in origin["OriginCustomHeaders"]:
            headers = {k: v for k, v in headers.items() if k.lower() != custom["HeaderName"].lower()}
            headers[custom["HeaderName"]] = self.resolve(custom["HeaderValue"])
        return Request(viewer.host, viewer.path, headers, viewer.method)

    # --- API Gateway ----------------------------------------------------------------------------------------------

    def readings(self, request: Request) -> list[tuple[Route | None, str | None]]:
        """Every way API Gateway may route the request: (route, None) or (None, why it routes nowhere)."""
        readings: list[tuple[Route | None, str | None]] = []
        host = request.host.lower()
        first, _, rest = request.path.lstrip("/").partition("/")
        domains = {
            self.resolve(v["Properties"]["DomainName"]).lower(): k
            for k, v in self._of("AWS::ApiGateway::DomainNameV2").items()
        }
        direct_ids = [v for k, v in request.headers.items() if k.lower() == "x-apigw-api-id"]
        match = re.match(rf"^([a-z0-9]+)\.execute-api\.{REGION}\.amazonaws\.com$", host)
        if match:
            direct_ids.append(match.group(1))
        for api_id in direct_ids:
            apis = [lid for lid, fake in self.api_ids.items() if fake == api_id]
            if not apis:
                readings.append((None, "no such API"))
            else:
                readings.append((Route(apis[0], first, "/" + rest, None), None))
        if host in domains and not match:
            associated = any(
                self.resolve(v["Properties"]["AccessAssociationSource"]) == ENDPOINT_ID
                for v in self._of("AWS::ApiGateway::DomainNameAccessAssociation").values()
            )
            mappings = {
                self.resolve(v["Properties"]["BasePath"]): self.resolve(v["Properties"])
                for v in self._of("AWS::ApiGateway::BasePathMappingV2").values()
            }
            mapping = mappings.get(first)
            if not associated:
                readings.append((None, "domain name not associated with the endpoint"))
            elif mapping is None or mapping["DomainNameArn"] != DOMAIN_ARN:
                readings.append((None, f"no base path mapping for {first!r}"))
            else:
                (api,) = [lid for lid, fake in self.api_ids.items() if fake == mapping["RestApiId"]]
                readings.append((Route(api, mapping["Stage"], "/" + rest, DOMAIN_ARN), None))
        if not readings:
            readings.append((None, "Host matches no domain name and no API"))
        return readings

    def refusing_policies(self, route: Route, method: str) -> set[str]:
        api_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self.api_ids[route.api]}/{route.stage}/{method}{route.path}"
        context = {"aws:SourceVpce": ENDPOINT_ID}
        if route.via_domain:
            context["execute-api:viaDomainArn"] = route.via_domain
        refused = set()
        endpoint = self.one("AWS::EC2::VPCEndpoint")
        endpoint_policy = self.resolve(endpoint.get("PolicyDocument"))
        touched = [api_arn] + ([route.via_domain] if route.via_domain else [])
        if endpoint_policy is not None and not all(
            _allowed(endpoint_policy, arn, context, own_arn=None) for arn in touched
        ):
            refused.add("endpoint policy")
        if route.via_domain:
            domain_policy = self.resolve(self.one("AWS::ApiGateway::DomainNameV2")["Policy"])
            if not _allowed(domain_policy, route.via_domain, context, own_arn=route.via_domain):
                refused.add("domain name policy")
        api_policy = self.resolve(self.resources[route.api]["Properties"].get("Policy"))
        own = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self.api_ids[route.api]}"
        if api_policy is None or not _allowed(api_policy, api_arn, context, own_arn=own):
            refused.add("API resource policy")
        return refused

    def evaluate(self, request: Request, *, cloudfront: bool = False) -> Verdict:
        """Which layers refuse the request on their own, and where it lands if none does."""
        refused: set[str] = set()
        if cloudfront:
            forwarded = self.through_cloudfront(request)
            if forwarded is None:
                return Verdict({"cloudfront"}, [])
            request = forwarded
        if self.waf_blocks(request):
            refused.add("waf")
        if not self.listener_forwards(request):
            refused.add("listener")
        per_reading: list[set[str]] = []
        landed: list[Route] = []
        for route, _nowhere in self.readings(request):
            if route is None:
                per_reading.append({"routing"})
                continue
            policies = self.refusing_policies(route, request.method)
            per_reading.append(policies)
            if not policies:
                landed.append(route)
        if all(per_reading):
            refused.add("api gateway")
            # A layer counts on its own only if it refuses every reading.
            refused |= set.intersection(*per_reading)
        return Verdict(refused, [] if refused else landed)


def _matches(pattern: str, value: str, *, own_arn: str | None) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("execute-api:/"):
        if own_arn is None:
            return False
        # The shorthand names the policy's own API or domain name ("execute-api:/*" for a domain name's policy).
        if own_arn.startswith(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:/domainnames/"):
            return pattern == "execute-api:/*" and value == own_arn
        pattern = own_arn + pattern[len("execute-api:") :]
    return bool(_wildcard(pattern).match(value))


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            values = expected if isinstance(expected, list) else [expected]
            present = key in context
            actual = context.get(key, "")
            if operator in ("StringEquals", "ArnEquals"):
                holds = present and actual in values
            elif operator in ("StringLike", "ArnLike"):
                holds = present and any(_wildcard(v).match(actual) for v in values)
            elif operator == "StringNotEquals":
                holds = not present or actual not in values
            elif operator in ("ArnNotEquals", "ArnNotLike"):
                holds = not present or not any(_wildcard(v).match(actual) for v in values)
            else:
                raise NotImplementedError(f"condition operator not modelled: {operator}")
            if not holds:
                return False
    return True


def _allowed(policy: dict[str, Any], resource: str, context: dict[str, str], *, own_arn: str | None) -> bool:
    allowed = False
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert statement["Principal"] in ("*", {"AWS": "*"}), statement  # an anonymous caller matches only these
        applies = (
            any(_wildcard(a).match("execute-api:Invoke") for a in actions)
            and any(_matches(r, resource, own_arn=own_arn) for r in resources)
            and _condition_holds(statement.get("Condition", {}), context)
        )
        if applies and statement["Effect"] == "Deny":
            return False
        allowed = allowed or (applies and statement["Effect"] == "Allow")
    return allowed


# --- the tables ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(synth_example(MODULE)["UnifiedApi"])


@pytest.fixture(scope="module")
def cf_stack() -> Stack:
    return Stack(synth_example(MODULE, **{"unified_api:cloudfront": "true"})["UnifiedApi"])


def _api(stack: Stack, prefix: str) -> str:
    (logical_id,) = [lid for lid in stack.api_ids if lid.startswith(prefix)]
    return logical_id


def _exec_host(stack: Stack, prefix: str) -> str:
    return f"{stack.api_ids[_api(stack, prefix)]}.execute-api.{REGION}.amazonaws.com"


@pytest.mark.parametrize(
    ("host", "path", "api", "landing"),
    [
        ("api.example.com", "/orders/items", "OrdersApi", "/items"),
        ("api.example.com", "/catalog/", "CatalogApi", "/"),
        ("API.Example.com", "/orders/items", "OrdersApi", "/items"),  # host names compare without case
    ],
)
def test_the_mapped_apis_are_reached_through_the_public_domain(
    stack: Stack, host: str, path: str, api: str, landing: str
) -> None:
    verdict = stack.evaluate(Request(host, path))
    assert verdict.refused_by == set()
    assert verdict.reached == [Route(_api(stack, api), "v1", landing, DOMAIN_ARN)]


#: Each attack, and every layer that refuses it on its own (the defence in depth the docs page claims).
ATTACKS: list[tuple[str, Any, str, dict[str, str], set[str]]] = [
    (
        "a mapped stage by execute-api Host",
        lambda s: _exec_host(s, "OrdersApi"),
        "/v1/items",
        {},
        {"listener", "api gateway", "endpoint policy"},
    ),
    (
        "an unmapped stage by execute-api Host",
        lambda s: _exec_host(s, "OrdersApi"),
        "/test/items",
        {},
        {"listener", "api gateway", "endpoint policy", "API resource policy"},
    ),
    (
        "an unmapped stage by x-apigw-api-id with the public Host",
        lambda s: "api.example.com",
        "/admin/items",
        {"x-apigw-api-id": "<catalog>"},
        {"waf", "api gateway"},
    ),
    (
        "a mapped stage by X-Apigw-Api-Id (any case) with the public Host",
        lambda s: "api.example.com",
        "/v1/items",
        {"X-Apigw-Api-Id": "<orders>"},
        {"waf", "api gateway"},
    ),
    (
        "x-apigw-api-id with the endpoint's own DNS name as Host",
        lambda s: f"{ENDPOINT_ID}-abcdefgh.execute-api.{REGION}.vpce.amazonaws.com",
        "/v1/items",
        {"x-apigw-api-id": "<orders>"},
        {"waf", "listener", "api gateway", "endpoint policy"},
    ),
    (
        "an unmapped base path on the public Host",
        lambda s: "api.example.com",
        "/admin/users",
        {},
        {"api gateway", "routing"},
    ),
    ("an unknown Host", lambda s: "other.example.net", "/orders/items", {}, {"listener", "api gateway", "routing"}),
    ("the ALB's own DNS name", lambda s: ALB_DNS, "/orders/items", {}, {"listener", "api gateway", "routing"}),
    (
        "a look-alike Host",
        lambda s: "api.example.com.attacker.example",
        "/orders/items",
        {},
        {"listener", "api gateway", "routing"},
    ),
]


def _headers(stack: Stack, headers: dict[str, str]) -> dict[str, str]:
    ids = {"<orders>": stack.api_ids[_api(stack, "OrdersApi")], "<catalog>": stack.api_ids[_api(stack, "CatalogApi")]}
    return {k: ids.get(v, v) for k, v in headers.items()}


@pytest.mark.parametrize(("name", "host", "path", "headers", "refused_by"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_requests_that_bypass_the_custom_domain_are_refused_by_every_layer_listed(
    stack: Stack, name: str, host: Any, path: str, headers: dict[str, str], refused_by: set[str]
) -> None:
    verdict = stack.evaluate(Request(host(stack), path, _headers(stack, headers)))
    assert verdict.reached == []
    assert verdict.refused_by == refused_by


def test_cloudfront_mode_reaches_the_mapped_api_only_through_the_distribution(cf_stack: Stack) -> None:
    orders = _api(cf_stack, "OrdersApi")
    verdict = cf_stack.evaluate(Request("api.example.com", "/orders/items"), cloudfront=True)
    assert (verdict.refused_by, verdict.reached) == (set(), [Route(orders, "v1", "/items", DOMAIN_ARN)])
    # A viewer cannot forge the origin header: CloudFront replaces it.
    forged = Request("api.example.com", "/orders/items", {"x-origin-verify": "guess"})
    assert cf_stack.evaluate(forged, cloudfront=True).reached == [Route(orders, "v1", "/items", DOMAIN_ARN)]


@pytest.mark.parametrize(
    ("host", "path", "headers", "via_cloudfront", "refused_by"),
    [
        # Straight at the ALB without the secret header (its security group admits CloudFront only; not modelled).
        ("api.example.com", "/orders/items", {}, False, {"listener"}),
        ("api.example.com", "/orders/items", {"X-Origin-Verify": "guess"}, False, {"listener"}),
        # Through the distribution, which forwards every viewer header.
        ("api.example.com", "/v1/items", {"x-apigw-api-id": "<orders>"}, True, {"waf", "api gateway"}),
        (
            DISTRIBUTION_DOMAIN,
            "/v1/items",
            {"x-apigw-api-id": "<orders>"},
            True,
            {"waf", "listener", "api gateway", "endpoint policy"},
        ),
        (DISTRIBUTION_DOMAIN, "/orders/items", {}, True, {"listener", "api gateway", "routing"}),
        ("<orders-exec>", "/v1/items", {}, True, {"cloudfront"}),
    ],
)
def test_cloudfront_mode_refuses_the_same_bypasses(
    cf_stack: Stack, host: str, path: str, headers: dict[str, str], via_cloudfront: bool, refused_by: set[str]
) -> None:
    host = _exec_host(cf_stack, "OrdersApi") if host == "<orders-exec>" else host
    verdict = cf_stack.evaluate(Request(host, path, _headers(cf_stack, headers)), cloudfront=via_cloudfront)
    assert verdict.reached == []
    assert verdict.refused_by == refused_by


def test_the_evaluator_refuses_to_guess_unmodelled_rules(stack: Stack) -> None:
    """The evaluator fails on rule types it does not model, rather than letting a request through."""
    with pytest.raises(NotImplementedError, match="WAF statement not modelled: GeoMatchStatement"):
        Stack._waf_statement({"GeoMatchStatement": {"CountryCodes": ["US"]}}, Request("api.example.com", "/"))
    with pytest.raises(NotImplementedError, match="listener condition not modelled: source-ip"):
        stack._alb_condition({"Field": "source-ip"}, Request("api.example.com", "/"))
    with pytest.raises(NotImplementedError, match="condition operator not modelled: IpAddress"):
        _condition_holds({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {})

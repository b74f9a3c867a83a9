"""`python -m webos_gateway`: serve the gateway service."""

from webos_common.service import run_service
from webos_gateway.settings import GatewaySettings


def main() -> None:
    run_service("webos_gateway.main:create_app", GatewaySettings())


if __name__ == "__main__":
    main()

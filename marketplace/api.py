from datetime import datetime
from typing import Annotated, Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import StrictInt

from accounts.api_auth import signed_in
from accounts.models import User
from accounts.roles import require_role, require_staff
from config.errors import NotFound
from marketplace import matching, presence, selectors, services, socket_frames
from marketplace.models import Consult, LawyerProfile, Offer, Question, Region

router = Router()


def _anonymous(request: HttpRequest) -> Any:
    """Lets a route serve anonymous callers while still recognising signed-in ones."""
    return AnonymousUser()


signed_in_or_anonymous = [*signed_in, _anonymous]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- reference data -------------------------------------------------------------------------


class RegionOut(Schema):
    code: str
    parent: str | None
    level: int
    kind: str
    name: str
    name_zh: str
    short_zh: str
    name_en: str

    @staticmethod
    def resolve_parent(obj: Region) -> str | None:
        return obj.parent_id

    @staticmethod
    def resolve_kind(obj: Region) -> str:
        return Region.Level(obj.level).name.lower()


class RegionFilter(Schema):
    parent: str | None = None


class CategoryOut(Schema):
    slug: str
    name: str
    name_zh: str
    name_en: str


class RegionRef(Schema):
    code: str
    name: str


class CategoryRef(Schema):
    slug: str
    name: str


@router.get("/regions", response=list[RegionOut], auth=None, tags=["reference data"])
def regions(request: HttpRequest, filters: Query[RegionFilter]):
    """Provinces, or the cities of `?parent=<province code>`."""
    if filters.parent and not Region.objects.filter(code=filters.parent).exists():
        raise NotFound()
    return list(selectors.region_list(parent=filters.parent))


@router.get("/categories", response=list[CategoryOut], auth=None, tags=["reference data"])
def categories(request: HttpRequest):
    return list(selectors.category_list())


# --- questions ------------------------------------------------------------------------------


class QuestionIn(Schema):
    # defaults instead of required fields: a missing title gets `title_required`, not a
    # framework error
    title: str = ""
    body: str = ""
    category: str = ""
    city: str = ""
    is_public: bool = True
    is_anonymous: bool = False


class QuestionOut(Schema):
    id: int
    title: str
    body: str
    category: CategoryRef
    city: RegionRef
    province: str | None
    is_public: bool
    is_anonymous: bool
    status: str
    asker: int | None = Field(description="null when the asker chose to stay anonymous")
    view_count: int
    helped_count: int
    created_at: datetime

    @staticmethod
    def resolve_province(obj: Question) -> str | None:
        return obj.city.parent_id

    @staticmethod
    def resolve_asker(obj: Question) -> int | None:
        return None if obj.is_anonymous else obj.asker_id


class QuestionFilter(Schema):
    region: str | None = Field(None, description="a city or province code")
    category: str | None = Field(None, description="a category slug")
    q: str | None = Field(None, max_length=200, description="search text (Chinese works)")
    mine: bool = Field(False, description="the signed-in asker's own questions, private too")


@router.post(
    "/questions",
    response={201: QuestionOut, 429: ErrorOut, **ERRORS},
    auth=signed_in,
    tags=["questions"],
)
def question_create(request: HttpRequest, payload: QuestionIn):
    question = services.question_create(
        asker=request.user,  # type: ignore[arg-type]
        title=payload.title,
        body=payload.body,
        category=payload.category,
        city=payload.city,
        is_public=payload.is_public,
        is_anonymous=payload.is_anonymous,
    )
    return Status(201, question)


@router.get(
    "/questions",
    response={200: list[QuestionOut], **ERRORS},
    auth=signed_in_or_anonymous,
    tags=["questions"],
)
@paginate(LimitOffsetPagination)
def question_list(request: HttpRequest, filters: Query[QuestionFilter]):
    """Public questions, newest first (or by relevance with `q`); `mine=true` lists the
    signed-in asker's own, private ones included."""
    asker = None
    if filters.mine:
        if not request.user.is_authenticated:
            from accounts.errors import NotAuthenticated

            raise NotAuthenticated()
        asker = request.user
    return selectors.question_list(
        region=filters.region,
        category=filters.category,
        text=filters.q,
        asker=asker,  # type: ignore[arg-type]
    )


@router.get(
    "/questions/{question_id}",
    response={200: QuestionOut, **ERRORS},
    auth=signed_in_or_anonymous,
    tags=["questions"],
)
def question_detail(request: HttpRequest, question_id: int):
    return selectors.question_for_viewer(
        question_id=question_id,
        user=request.user,  # type: ignore[arg-type]
    )


# --- lawyer profiles ------------------------------------------------------------------------


class LawyerProfileIn(Schema):
    license_number: str | None = None
    city: str | None = Field(None, description="home city code")
    regions_served: list[str] | None = Field(None, description="city or province codes")
    categories: list[str] | None = Field(None, description="category slugs")
    capacity: StrictInt | None = Field(None, description="max concurrent consults, 1–20")
    price: StrictInt | None = Field(None, description="per consult, minor units; 0 = free")
    currency: str | None = None
    firm: str | None = Field(None, max_length=100)
    bio: str | None = Field(None, max_length=2000)
    years_in_practice: Annotated[int, Field(ge=0, le=80)] | None = None


class RegionServedOut(Schema):
    code: str
    name: str
    level: int


class DecisionOut(Schema):
    approved: bool
    reason: str
    decided_at: datetime


class LawyerPublicOut(Schema):
    id: int
    name: str
    firm: str
    bio: str
    years_in_practice: int
    city: RegionRef | None
    regions_served: list[RegionServedOut]
    categories: list[CategoryRef]
    price: int
    currency: str
    rating_avg: float | None
    rating_count: int
    response_p50_seconds: int | None
    verified: bool
    status: str = Field(description="online, away or offline")

    @staticmethod
    def resolve_id(obj: LawyerProfile) -> int:
        return obj.user_id

    @staticmethod
    def resolve_name(obj: LawyerProfile) -> str:
        return obj.user.display_name

    @staticmethod
    def resolve_city(obj: LawyerProfile) -> Region | None:
        return obj.home_city

    @staticmethod
    def resolve_regions_served(obj: LawyerProfile) -> list[Region]:
        return list(obj.regions_served.all())

    @staticmethod
    def resolve_categories(obj: LawyerProfile) -> list:
        return list(obj.categories.all())

    @staticmethod
    def resolve_verified(obj: LawyerProfile) -> bool:
        return obj.is_verified

    @staticmethod
    def resolve_rating_avg(obj: LawyerProfile) -> float | None:
        return float(obj.rating_avg) if obj.rating_avg is not None else None

    @staticmethod
    def resolve_status(obj: LawyerProfile) -> str:
        return presence.statuses([obj.user_id])[obj.user_id]


class LawyerProfileOut(LawyerPublicOut):
    license_number: str
    verification: str
    submitted_at: datetime | None
    verified_at: datetime | None
    capacity: int
    last_decision: DecisionOut | None

    @staticmethod
    def resolve_last_decision(obj: LawyerProfile) -> Any:
        decisions = list(obj.verification_decisions.all())
        return decisions[0] if decisions else None


class VerifyIn(Schema):
    approved: bool
    reason: str = Field("", max_length=500)
    expected: str | None = Field(
        None,
        description="the status you saw (pending, verified or rejected): a colleague's decision "
        "since then answers 409 verification_changed",
    )


class VerifyOut(Schema):
    lawyer: int
    verification: str
    approved: bool
    reason: str
    decided_by: int
    decided_at: datetime


class VerificationFilter(Schema):
    verification: str = Field(LawyerProfile.Verification.PENDING, description="status")


@router.get(
    "/lawyer/profile", response={200: LawyerProfileOut, **ERRORS}, auth=signed_in, tags=["lawyers"]
)
def lawyer_profile(request: HttpRequest):
    require_role(request.user, User.Role.LAWYER)  # type: ignore[arg-type]
    return selectors.lawyer_own_profile(lawyer=request.user)  # type: ignore[arg-type]


@router.put(
    "/lawyer/profile", response={200: LawyerProfileOut, **ERRORS}, auth=signed_in, tags=["lawyers"]
)
def lawyer_profile_update(request: HttpRequest, payload: LawyerProfileIn):
    """Fields left out stay as they are. Submitting a license number puts the profile in
    review (`pending`); only verified lawyers are matched."""
    services.lawyer_profile_update(lawyer=request.user, **payload.dict())  # type: ignore[arg-type]
    return selectors.lawyer_own_profile(lawyer=request.user)  # type: ignore[arg-type]


@router.get(
    "/lawyers/online",
    response={200: dict[str, int], **ERRORS},
    auth=None,
    tags=["lawyers"],
)
def lawyers_online(request: HttpRequest, region: str = presence.NATION):
    """Lawyers online now whose home is in the region (city, province or "100000")."""
    if not Region.objects.filter(code=region).exists():
        raise NotFound()
    return {"online": presence.online_counts([region])[region]}


@router.get(
    "/lawyers/available",
    response={200: dict[str, int], **ERRORS},
    auth=None,
    tags=["lawyers"],
)
def lawyers_available(
    request: HttpRequest, city: str, category: str, price: int = 0, currency: str = ""
):
    """How many lawyers online now would be offered a consult on this city and category at
    this price (minor units; 0: free) in the first stage of matching, the city's."""
    from billing.prices import clean_currency, clean_price

    price = clean_price(price)
    user = request.user
    count = matching.ready_in_city(
        city=services.city_from_code(city),
        category=services.category_from_slug(category),
        price=price,
        currency=clean_currency(currency),
        asker_id=user.pk if user.is_authenticated else None,
    )
    return {"available": count}


@router.get(
    "/lawyers/{lawyer_id}", response={200: LawyerPublicOut, **ERRORS}, auth=None, tags=["lawyers"]
)
def lawyer_detail(request: HttpRequest, lawyer_id: int):
    return selectors.lawyer_public_profile(lawyer_id=lawyer_id)


@router.get(
    "/admin/lawyers",
    response={200: list[LawyerProfileOut], **ERRORS},
    auth=signed_in,
    tags=["staff"],
)
@paginate(LimitOffsetPagination)
def admin_lawyer_list(request: HttpRequest, filters: Query[VerificationFilter]):
    """Lawyers by verification status (pending first-come first-served): the review queue."""
    require_staff(request.user)  # type: ignore[arg-type]
    return selectors.verification_queue(status=filters.verification)


@router.post(
    "/admin/lawyers/{lawyer_id}/verify",
    response={200: VerifyOut, **ERRORS},
    auth=signed_in,
    tags=["staff"],
)
def admin_lawyer_verify(request: HttpRequest, lawyer_id: int, payload: VerifyIn):
    decision = services.lawyer_verify(
        staff=request.user,  # type: ignore[arg-type]
        lawyer_id=lawyer_id,
        approved=payload.approved,
        reason=payload.reason,
        expected=payload.expected,
    )
    return {
        "lawyer": lawyer_id,
        "verification": decision.profile.verification,
        "approved": decision.approved,
        "reason": decision.reason,
        "decided_by": decision.decided_by_id,
        "decided_at": decision.decided_at,
    }


# --- consults -------------------------------------------------------------------------------


class ConsultIn(Schema):
    question: StrictInt
    lawyer: StrictInt | None = Field(None, description="a verified lawyer's user id")
    paid: bool = False
    price: StrictInt = Field(0, description="minor units; required above 0 when paid")
    currency: str = "CNY"


class SearchOut(Schema):
    scope: str
    offered: int
    round: int


class PaymentRef(Schema):
    id: int
    state: str
    amount: int
    currency: str
    gateway: str


class QuestionRef(Schema):
    id: int
    title: str
    category: str
    city: str


class ConsultOut(Schema):
    id: int
    state: str
    question: QuestionRef
    asker: int
    lawyer: int | None
    lawyer_name: str | None
    requested_lawyer: int | None
    paid: bool
    price: int
    currency: str
    conversation: int | None
    search: SearchOut | None
    payment: PaymentRef | None
    created_at: datetime
    paid_at: datetime | None
    queued_at: datetime | None
    first_offered_at: datetime | None
    accepted_at: datetime | None
    first_reply_at: datetime | None
    sla_deadline: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_question(obj: Consult) -> dict:
        q = obj.question
        return {"id": q.pk, "title": q.title, "category": q.category.slug, "city": q.city_id}

    @staticmethod
    def resolve_asker(obj: Consult) -> int:
        return obj.asker_id

    @staticmethod
    def resolve_lawyer(obj: Consult) -> int | None:
        return obj.lawyer_id

    @staticmethod
    def resolve_lawyer_name(obj: Consult) -> str | None:
        return obj.lawyer.display_name if obj.lawyer is not None else None

    @staticmethod
    def resolve_requested_lawyer(obj: Consult) -> int | None:
        return obj.requested_lawyer_id

    @staticmethod
    def resolve_paid(obj: Consult) -> bool:
        return obj.is_paid

    @staticmethod
    def resolve_conversation(obj: Consult) -> int | None:
        return obj.conversation_id

    @staticmethod
    def resolve_search(obj: Consult) -> Any:
        return selectors.search_state(obj)

    @staticmethod
    def resolve_payment(obj: Consult) -> Any:
        try:
            return obj.payment  # type: ignore[attr-defined]
        except ObjectDoesNotExist:
            return None


class ConsultFilter(Schema):
    open: bool = Field(False, description="only consults still open")


@router.post("/consults", response={201: ConsultOut, **ERRORS}, auth=signed_in, tags=["consults"])
def consult_create(request: HttpRequest, payload: ConsultIn):
    """Open a consult from one's own question. Free: queued and matched at once. Paid:
    `pending_payment` with its `payment` until the payment is authorised."""
    consult = services.consult_create(
        asker=request.user,  # type: ignore[arg-type]
        question_id=payload.question,
        lawyer_id=payload.lawyer,
        paid=payload.paid,
        price=payload.price,
        currency=payload.currency,
    )
    # as committed (free: `queued`, no offer yet), from the rows just written: re-reading it
    # with the details query cost this request more CPU than creating it
    return Status(201, consult)


@router.get(
    "/consults", response={200: list[ConsultOut], **ERRORS}, auth=signed_in, tags=["consults"]
)
@paginate(LimitOffsetPagination)
def consult_list(request: HttpRequest, filters: Query[ConsultFilter]):
    """The signed-in user's consults (as asker or as lawyer), newest first."""
    return selectors.consult_list_for_user(user=request.user, open_only=filters.open)  # type: ignore[arg-type]


@router.get(
    "/consults/{consult_id}",
    response={200: ConsultOut, **ERRORS},
    auth=signed_in,
    tags=["consults"],
)
def consult_detail(request: HttpRequest, consult_id: int):
    return selectors.consult_for_participant(consult_id=consult_id, user=request.user)  # type: ignore[arg-type]


@router.post(
    "/consults/{consult_id}/close",
    response={200: ConsultOut, **ERRORS},
    auth=signed_in,
    tags=["consults"],
)
def consult_close(request: HttpRequest, consult_id: int):
    """Resolve an active consult, or (asker) cancel one no lawyer has taken yet."""
    services.consult_close(user=request.user, consult_id=consult_id)  # type: ignore[arg-type]
    return selectors.consult_for_participant(consult_id=consult_id, user=request.user)  # type: ignore[arg-type]


# --- the lawyer's queue and offers ---------------------------------------------------------


class OfferSummaryOut(Schema):
    title: str
    category: str
    category_name: str
    city: str
    city_name: str
    price: int
    currency: str
    paid: bool


class OfferOut(Schema):
    id: int
    consult: int
    state: str
    created_at: datetime
    expires_at: datetime
    summary: OfferSummaryOut

    @staticmethod
    def resolve_consult(obj: Offer) -> int:
        return obj.consult_id

    @staticmethod
    def resolve_summary(obj: Offer) -> dict:
        return socket_frames.offer_summary(obj.consult)


class OfferDeclinedOut(Schema):
    id: int
    consult: int
    state: str

    @staticmethod
    def resolve_consult(obj: Offer) -> int:
        return obj.consult_id


@router.get(
    "/lawyer/queue", response={200: list[OfferOut], **ERRORS}, auth=signed_in, tags=["lawyers"]
)
def lawyer_queue(request: HttpRequest):
    """The consults offered to the signed-in lawyer and still open, oldest first."""
    require_role(request.user, User.Role.LAWYER)  # type: ignore[arg-type]
    return selectors.lawyer_live_offers(lawyer_id=request.user.pk)  # type: ignore[arg-type]


@router.post(
    "/offers/{offer_id}/accept",
    response={200: ConsultOut, **ERRORS},
    auth=signed_in,
    tags=["offers"],
)
def offer_accept(request: HttpRequest, offer_id: int):
    """First accept wins; anyone later gets 409 `offer_taken`."""
    consult = services.offer_accept(offer_id=offer_id, lawyer=request.user)  # type: ignore[arg-type]
    return selectors.consult_for_participant(consult_id=consult.pk, user=request.user)  # type: ignore[arg-type]


@router.post(
    "/offers/{offer_id}/decline",
    response={200: OfferDeclinedOut, **ERRORS},
    auth=signed_in,
    tags=["offers"],
)
def offer_decline(request: HttpRequest, offer_id: int):
    return services.offer_decline(offer_id=offer_id, lawyer=request.user)  # type: ignore[arg-type]

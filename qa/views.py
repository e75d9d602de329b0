"""Pages of the public Q&A: browse, the question page, lawyers, reports, moderation,
publishing a consult, the sitemap. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import require_staff
from config import page_cache
from config.errors import DomainError, NotFound, form_add_errors
from marketplace.models import Category, Consult, LawyerProfile, Region
from messaging import services as messaging_services
from messaging.models import Message
from qa import selectors, services
from qa.api import question_brief
from qa.forms import AnswerForm, DecideForm, PublishForm, ReportForm, ReviewForm
from qa.masking import mask_personal_data
from qa.models import (
    ANSWER_AGAIN_AFTER,
    ANSWER_EDITABLE,
    Answer,
    AnswerRevision,
    ConsultPublication,
    Report,
    TargetType,
)
from qa.view_counts import is_bot, view_record


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A service's or selector's NotFound is the page's 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None

    return wrapper


def _browse_region(request: HttpRequest, city_code: str | None = None) -> Region | None:
    """The city picked, unless the province picker was changed to another province since."""
    if city_code:
        return selectors.region_by_code(city_code)
    city = selectors.region_by_code(request.GET.get("city"))
    province = selectors.region_by_code(request.GET.get("province"))
    if city is not None and (province is None or city.parent_id == province.code):
        return city
    return province


def _page(request: HttpRequest, queryset, per_page: int | None = None):
    return Paginator(queryset, per_page or settings.QA_PAGE_SIZE).get_page(request.GET.get("page"))


def _region_filters(region: Region | None) -> dict[str, Any]:
    """The province and city pickers of a browse page."""
    province = None
    if region is not None:
        province = region if region.level == Region.Level.PROVINCE else region.parent
    return {
        "provinces": list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")),
        "cities": list(Region.objects.filter(parent=province).order_by("code")) if province else [],
        "province": province,
        "region": region,
    }


# --- browse ----------------------------------------------------------------------------
@require_GET
@not_found_as_404
def question_list(
    request: HttpRequest, city_code: str | None = None, category_slug: str | None = None
) -> HttpResponse:
    region = _browse_region(request, city_code)
    category = selectors.category_by_slug(category_slug or request.GET.get("category"))
    text = (request.GET.get("q") or "").strip()[:200]
    unanswered = request.GET.get("unanswered") == "1"
    questions = selectors.question_browse(
        region=region, category=category, text=text, unanswered=unanswered
    )
    context = {
        **_region_filters(region),
        "page": _page(request, questions),
        "category": category,
        "categories": list(Category.objects.all()),
        "q": text,
        "unanswered": unanswered,
        "ask_url": ask_url(
            city=region.code if region is not None and region.level == Region.Level.CITY else "",
            category=category.slug if category is not None else "",
        ),
    }
    return render(request, "qa/question_list.html", context)


# --- the question page -----------------------------------------------------------------
def _own_answer(user: Any, question) -> Answer | None:
    """The signed-in lawyer's live answer to the question, else their latest rejected or
    withdrawn one."""
    if not (user.is_authenticated and user.is_lawyer):
        return None
    rejected_last = Case(When(status__in=ANSWER_AGAIN_AFTER, then=1), default=0)
    return (
        Answer.objects.filter(question=question, lawyer=user)
        .order_by(rejected_last, "-created_at")
        .first()
    )


def ask_url(*, city: str = "", category: str = "", title: str = "") -> str:
    """The ask form, started with what the page knows (a city: the form asks for a city, not
    a province)."""
    query = {
        name: value
        for name, value in (("city", city), ("category", category), ("title", title))
        if value
    }
    return f"/ask/?{urlencode(query)}" if query else "/ask/"


def ask_url_for(question) -> str:
    """The ask form started from this question: its city, category and (masked) title."""
    return ask_url(
        city=question.city_id,
        category=question.category.slug,
        title=mask_personal_data(question.title),
    )


def _render_question(
    request: HttpRequest, question, *, answer_form: AnswerForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    pending_views = 0
    if request.method == "GET" and not is_bot(request.headers.get("User-Agent", "")):
        pending_views = view_record(question.pk)
    answers = list(selectors.answers_for_question(question, user))
    own = _own_answer(user, question)
    profile = (
        LawyerProfile.objects.filter(user=user).only("verification").first()
        if user.is_authenticated and user.is_lawyer
        else None
    )
    can_answer = (
        profile is not None
        and profile.is_verified
        and question.status in selectors.ANSWERABLE_STATUSES
        and (own is None or own.status in ANSWER_AGAIN_AFTER)
    )
    context = {
        "question": question,
        "views": question.view_count + pending_views,
        "answers": answers,
        "review_rounds": max((a.review_rounds_required for a in answers), default=0),
        "related": selectors.questions_related(question),
        "local_lawyers": selectors.lawyers_local(question.city, category=question.category),
        "own_answer": own,
        "own_edit": selectors.answer_open_edit(own) if own is not None else None,
        "can_edit": own is not None
        and profile is not None
        and profile.is_verified
        and own.status in ANSWER_EDITABLE,
        "lawyer_unverified": profile is not None and not profile.is_verified,
        "can_answer": can_answer,
        "answer_form": answer_form or (AnswerForm() if can_answer else None),
        "ask_url": ask_url_for(question),
    }
    return render(request, "qa/question_detail.html", context, status=status)


@require_GET
@not_found_as_404
def question_detail(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_public(pk)
    return page_cache.mark_shareable(request, _render_question(request, question))


@login_required
@require_POST
@not_found_as_404
def answer_submit(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_public(pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_create(
                lawyer=request.user,  # type: ignore[arg-type]
                question_id=question.pk,
                body=form.cleaned_data["body"],
                legal_bases=form.legal_bases(),
            )
        except DomainError as exc:
            form.add_error(None, str(exc.detail))
        else:
            messages.success(
                request, _("Thank you. Your answer will show once our reviewers approve it.")
            )
            return redirect(reverse("qa:question", args=[question.pk]) + "#your-answer")
    return _render_question(request, question, answer_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def answer_edit(request: HttpRequest, answer_id: int) -> HttpResponse:
    """The lawyer edits their own answer: the answer form, started from what they last wrote
    (an edit waiting for review, else the answer's text)."""
    if not request.user.is_lawyer:  # type: ignore[union-attr]
        raise Http404()
    try:
        answer = services.answer_edit_check(lawyer=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("qa:my_answers")
    question = selectors.question_public(answer.question_id)
    edit = selectors.answer_open_edit(answer)
    pending = edit if edit is not None and edit.status == AnswerRevision.Status.PENDING else None
    bases = pending.legal_bases if pending else selectors.answer_bases_data(answer)
    initial = {"body": pending.body if pending else answer.body}
    form = AnswerForm(request.POST or None, initial=initial, bases=bases)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                edited = services.answer_edit(
                    lawyer=request.user,  # type: ignore[arg-type]
                    answer_id=answer.pk,
                    body=form.cleaned_data["body"],
                    legal_bases=form.legal_bases(),
                )
            except NotFound:
                raise
            except DomainError as exc:
                form_add_errors(form, exc, shown={"body"})
                status = exc.status
            else:
                messages.success(request, _edit_outcome(edited))
                return redirect(reverse("qa:question", args=[question.pk]) + "#your-answer")
    context = {
        "question": question,
        "answer": answer,
        "edit": edit,
        "answer_form": form,
    }
    return render(request, "qa/answer_edit.html", context, status=status)


def _edit_outcome(answer: Answer) -> str:
    if answer.status == Answer.Status.PENDING:
        return _("Your answer is updated. It shows once our reviewers approve it.")
    edit = selectors.answer_open_edit(answer)
    if edit is not None and edit.status == AnswerRevision.Status.PENDING:
        return _(
            "Thank you. Your edit replaces the published answer once our reviewers approve it; "
            "until then readers see the published text."
        )
    return _("Your answer reads as published; no edit waits for review.")


def _reaction(request: HttpRequest, answer_id: int, *, kind: str) -> HttpResponse:
    on = request.POST.get("on", "1") == "1"
    user = request.user
    try:
        if kind == "like":
            count = (services.answer_like if on else services.answer_unlike)(
                user=user,  # type: ignore[arg-type]
                answer_id=answer_id,
            )
            payload = {"liked": on, "like_count": count}
        else:
            count = (services.answer_mark_helpful if on else services.answer_unmark_helpful)(
                user=user,  # type: ignore[arg-type]
                answer_id=answer_id,
            )
            payload = {"marked_helpful": on, "helped_count": count}
    except NotFound:
        raise
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse(exc.as_dict(), status=exc.status)
        messages.error(request, str(exc.detail))
        payload = {}
    if _wants_json(request):
        return JsonResponse(payload)
    question_id = Answer.objects.values_list("question_id", flat=True).get(pk=answer_id)
    return redirect(reverse("qa:question", args=[question_id]) + f"#answer-{answer_id}")


@login_required
@require_POST
@not_found_as_404
def answer_like(request: HttpRequest, answer_id: int) -> HttpResponse:
    return _reaction(request, answer_id, kind="like")


@login_required
@require_POST
@not_found_as_404
def answer_helpful(request: HttpRequest, answer_id: int) -> HttpResponse:
    return _reaction(request, answer_id, kind="helpful")


@require_GET
@not_found_as_404
def similar_json(request: HttpRequest) -> JsonResponse:
    """Same as GET /api/v1/questions/similar, for pages that call a same-origin path."""
    text = (request.GET.get("text") or "").strip()[:500]
    if len(text) < 2:
        return JsonResponse([], safe=False)
    try:
        limit = min(20, max(1, int(request.GET.get("limit") or settings.QA_SIMILAR_LIMIT)))
    except ValueError:
        limit = settings.QA_SIMILAR_LIMIT
    found = selectors.questions_similar(
        text=text,
        region=selectors.region_by_code(request.GET.get("city")),
        category=selectors.category_by_slug(request.GET.get("category")),
        limit=limit,
    )
    rows = [question_brief(q) | {"created_at": q.created_at.isoformat()} for q in found]
    return JsonResponse(rows, safe=False)


# --- lawyers ---------------------------------------------------------------------------
@require_GET
@not_found_as_404
def lawyer_list(request: HttpRequest) -> HttpResponse:
    region = _browse_region(request)
    category = selectors.category_by_slug(request.GET.get("category"))
    page = _page(request, selectors.lawyer_directory(region=region, category=category))
    context = {
        **_region_filters(region),
        "page": page,
        "category": category,
        "categories": list(Category.objects.all()),
    }
    return render(request, "qa/lawyer_list.html", context)


@require_GET
@not_found_as_404
def lawyer_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    profile = selectors.lawyer_public(user_id)
    context = {"profile": profile, "answers": selectors.lawyer_recent_answers(user_id)}
    return render(request, "qa/lawyer_detail.html", context)


@login_required
@require_POST
@not_found_as_404
def answer_withdraw(request: HttpRequest, answer_id: int) -> HttpResponse:
    """From "My public answers": take back one's own answer."""
    if not request.user.is_lawyer:  # type: ignore[union-attr]
        raise Http404()
    try:
        services.answer_withdraw(lawyer=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("Your answer is withdrawn; you may answer the question again."))
    return redirect("qa:my_answers")


@login_required
@require_GET
@not_found_as_404
def my_answers(request: HttpRequest) -> HttpResponse:
    """A lawyer's own answers in every state, with what reviewers decided."""
    if not request.user.is_lawyer:  # type: ignore[union-attr]
        raise Http404()
    page = _page(request, selectors.answers_of_lawyer(request.user))  # type: ignore[arg-type]
    for answer in page.object_list:
        setattr(answer, "open_edit", selectors.answer_open_edit(answer))  # noqa: B010
    return render(request, "qa/my_answers.html", {"page": page})


# --- reports ---------------------------------------------------------------------------
def _report_target_url(target_type: str, target_id: int) -> str:
    if target_type == TargetType.QUESTION:
        return reverse("qa:question", args=[target_id])
    if target_type == TargetType.ANSWER:
        question_id = (
            selectors.visible_answers()
            .filter(pk=target_id)
            .values_list("question_id", flat=True)
            .first()
        )
        if question_id:
            return reverse("qa:question", args=[question_id]) + f"#answer-{target_id}"
    if target_type == TargetType.LAWYER:
        return reverse("qa:lawyer", args=[target_id])
    if target_type == TargetType.MESSAGE:
        conversation_id = Message.objects.filter(pk=target_id).values("conversation_id")
        consult_id = (
            Consult.objects.filter(conversation_id__in=conversation_id)
            .values_list("pk", flat=True)
            .first()
        )
        if consult_id:
            return reverse("pages:consult", args=[consult_id])
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def report_view(request: HttpRequest) -> HttpResponse:
    target_type = request.POST.get("type") or request.GET.get("type") or ""
    try:
        target_id = int(request.POST.get("id") or request.GET.get("id") or "")
    except ValueError:
        raise Http404() from None
    if target_type not in TargetType.values:
        raise Http404()
    back = _safe_next(request, _report_target_url(target_type, target_id))
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            # refuses what the reporter may not see (404) before anything else: a refusal
            # that comes back here is about a target the reporter may see
            services.report_create(
                reporter=request.user,  # type: ignore[arg-type]
                target_type=target_type,
                target_id=target_id,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except NotFound:
            raise
        except DomainError as exc:
            form.add_error(None, str(exc.detail))
            status = exc.status
        else:
            messages.success(request, _("Thank you for your report. Our team will review it."))
            return redirect(back)
    else:
        # the form shown, or bounced by its own fields: what the reporter may not see is 404
        # here too, not a form that names or quotes it
        try:
            services.report_target_check(
                reporter=request.user,  # type: ignore[arg-type]
                target_type=target_type,
                target_id=target_id,
            )
        except NotFound:
            raise
        except DomainError:
            pass  # reporting oneself: the form's POST explains
        if request.method == "POST":
            status = 422
    quoted = ""
    if target_type == TargetType.MESSAGE:
        quoted = Message.objects.filter(pk=target_id).values_list("body", flat=True).first() or ""
    named = selectors.report_target_named(
        reporter=request.user,  # type: ignore[arg-type]
        target_type=target_type,
        target_id=target_id,
    )
    context = {
        "form": form,
        "target_type": target_type,
        "target_label": TargetType(target_type).label,
        "target_id": target_id,
        "quoted": quoted,
        "named": named,
        "next": back,
    }
    return render(request, "qa/report_form.html", context, status=status)


# --- staff moderation ------------------------------------------------------------------
# a decision goes back to its section of the page (its anchor), where its message is shown
MODERATION_ANSWERS = "answers"
MODERATION_REPORTS = "reports"


def _render_moderation(
    request: HttpRequest, *, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """The moderation page; `refused`: a review of one answer that was refused (`answer_id`,
    `message`, and what was posted), shown in that answer's form."""
    queue = list(selectors.answers_pending_review()[:100])
    for answer in queue:
        # the text under review is the answer's latest revision (its own, or a pending edit)
        reviewed = any(
            r.reviewer_id == request.user.pk and r.revision == answer.revision
            for r in answer.reviews.all()
        )
        edit = selectors.answer_pending_edit(answer)
        # display flags for the page
        setattr(answer, "reviewed_by_me", reviewed)  # noqa: B010
        setattr(answer, "pending_edit", edit)  # noqa: B010
        setattr(answer, "history", [e for e in answer.edits if e is not edit])  # type: ignore[attr-defined]  # noqa: B010
        mine = refused is not None and refused["answer_id"] == answer.pk
        setattr(answer, "refused", refused if mine else None)  # noqa: B010
    if refused is not None and not any(a.pk == refused["answer_id"] for a in queue):
        # the answer left the queue (someone decided it meanwhile): say so atop the section
        messages.error(request, refused["message"], extra_tags=MODERATION_ANSWERS)
    context = {
        "pending_answers": queue,
        "report_groups": selectors.reports_open(),
        "log": selectors.moderation_log(),
        "review_form": ReviewForm(),
        "decide_form": DecideForm(),
    }
    return render(request, "qa/moderation.html", context, status=status)


@login_required
@require_GET
@not_found_as_404
def moderation(request: HttpRequest) -> HttpResponse:
    require_staff(request.user)  # type: ignore[arg-type]
    return _render_moderation(request)


@login_required
@require_POST
@not_found_as_404
def moderation_review(request: HttpRequest, answer_id: int) -> HttpResponse:
    """A refused review is shown in the answer's own form (the form posts to the answer's
    anchor, so the page opens there), with what staff chose and typed."""
    require_staff(request.user)  # type: ignore[arg-type]
    form = ReviewForm(request.POST)
    refusal: str | None = None
    status = 422
    if not form.is_valid():
        if "decision" in form.errors:
            refusal = _("Choose approve or reject.")
        else:
            refusal = " ".join(str(e) for e in form.errors.get("reason", []))
    else:
        try:
            answer = services.answer_review(
                staff=request.user,  # type: ignore[arg-type]
                answer_id=answer_id,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
                expected=form.cleaned_data["expected"],
            )
        except NotFound:
            raise
        except DomainError as exc:
            refusal, status = str(exc.detail), exc.status
        else:
            edit = getattr(answer, "reviewed_edit", None)
            if edit is not None:
                done = _("Edit of answer %(id)s: %(status)s.") % {
                    "id": answer.pk,
                    "status": edit.get_status_display(),
                }
            else:
                done = _("Answer %(id)s: %(status)s.") % {
                    "id": answer.pk,
                    "status": answer.get_status_display(),
                }
            messages.success(request, done, extra_tags=MODERATION_ANSWERS)
            return redirect(reverse("qa:moderation") + f"#{MODERATION_ANSWERS}")
    refused = {
        "answer_id": answer_id,
        "message": refusal,
        "decision": request.POST.get("decision", ""),
        "reason": request.POST.get("reason", ""),
    }
    return _render_moderation(request, refused=refused, status=status)


@login_required
@require_POST
@not_found_as_404
def moderation_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    require_staff(request.user)  # type: ignore[arg-type]
    back = reverse("qa:moderation") + f"#{MODERATION_REPORTS}"
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose uphold or dismiss."), extra_tags=MODERATION_REPORTS)
        return redirect(back)
    try:
        decision = services.report_decide(
            staff=request.user,  # type: ignore[arg-type]
            report_id=report_id,
            upheld=form.cleaned_data["outcome"] == "upheld",
            note=form.cleaned_data["note"],
        )
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.detail), extra_tags=MODERATION_REPORTS)
    else:
        messages.success(
            request,
            _("Decision recorded: %(outcome)s, %(action)s.")
            % {"outcome": decision.get_outcome_display(), "action": decision.get_action_display()},
            extra_tags=MODERATION_REPORTS,
        )
    return redirect(back)


@login_required
@require_GET
@not_found_as_404
def moderation_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """A reported private message, opened by staff: only while a report on it is open, and the
    access is recorded in the conversation's audit trail."""
    require_staff(request.user)  # type: ignore[arg-type]
    reports = list(
        Report.objects.filter(
            target_type=TargetType.MESSAGE, target_id=message_id, status=Report.Status.OPEN
        ).select_related("reporter")
    )
    message = Message.objects.select_related("sender", "conversation").filter(pk=message_id).first()
    if message is None or not reports:
        raise Http404()
    messaging_services.staff_access_record(
        staff=request.user,  # type: ignore[arg-type]
        conversation=message.conversation,
        reason=f"report {reports[0].pk} on message {message.pk}",
    )
    context = {"message_row": message, "reports": reports, "decide_form": DecideForm()}
    return render(request, "qa/moderation_message.html", context)


# --- publishing a finished consult ---------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def publish_consult(request: HttpRequest, consult_id: int) -> HttpResponse:
    consult = (
        Consult.objects.select_related("question", "question__city", "question__category", "lawyer")
        .filter(pk=consult_id, asker_id=request.user.pk)
        .first()
    )
    if consult is None:
        raise Http404()
    published = ConsultPublication.objects.filter(consult=consult).first()
    reply = services.consult_lawyer_reply(consult)
    initial = {
        "title": mask_personal_data(consult.question.title),
        "body": mask_personal_data(consult.question.body),
        "include_answer": True,
    }
    form = PublishForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                question = services.consult_publish(
                    asker=request.user,  # type: ignore[arg-type]
                    consult_id=consult.pk,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    confirm=form.cleaned_data["confirm"],
                    include_answer=form.cleaned_data["include_answer"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc.detail))
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Published anonymously. The lawyer's answer shows once it is reviewed."),
                )
                return redirect("qa:question", pk=question.pk)
    context = {
        "consult": consult,
        "published": published,
        "closed": consult.state == Consult.State.RESOLVED,
        "reply": reply,
        "form": form,
    }
    return render(request, "qa/publish_consult.html", context, status=status)


# --- sitemap and robots ----------------------------------------------------------------
def _xml(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, template, context, content_type="application/xml; charset=utf-8")


def _sitemap_question_pages() -> int:
    return max(1, -(-selectors.sitemap_question_count() // settings.QA_SITEMAP_PAGE_SIZE))


@require_GET
@not_found_as_404
def sitemap_index(request: HttpRequest) -> HttpResponse:
    pages = _sitemap_question_pages()
    base = request.build_absolute_uri("/").rstrip("/")
    sitemaps = [base + reverse("qa:sitemap_pages")] + [
        base + reverse("qa:sitemap_questions", args=[n]) for n in range(1, pages + 1)
    ]
    return _xml(request, "qa/sitemap_index.xml", {"sitemaps": sitemaps})


@require_GET
@not_found_as_404
def sitemap_questions(request: HttpRequest, page: int) -> HttpResponse:
    # a page number past the last (or 0) is a 404 before it becomes an OFFSET the database
    # refuses (bigint out of range) or a negative slice
    if not 1 <= page <= _sitemap_question_pages():
        raise Http404()
    rows = list(selectors.sitemap_questions(page=page, size=settings.QA_SITEMAP_PAGE_SIZE))
    base = request.build_absolute_uri("/").rstrip("/")
    urls = [
        {"loc": base + reverse("qa:question", args=[pk]), "lastmod": updated}
        for pk, updated in rows
    ]
    return _xml(request, "qa/sitemap.xml", {"urls": urls})


@require_GET
@not_found_as_404
def sitemap_pages(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")
    paths = [reverse("qa:question_list"), reverse("qa:lawyer_list")]
    paths += [reverse("qa:question_list_category", args=[c.slug]) for c in Category.objects.all()]
    paths += [
        reverse("qa:question_list_city", args=[code])
        for code in selectors.public_questions()
        .order_by("city_id")
        .values_list("city_id", flat=True)
        .distinct()
    ]
    paths += [
        reverse("qa:lawyer", args=[user_id])
        for user_id in selectors.verified_lawyers()
        .order_by("user_id")
        .values_list("user_id", flat=True)
    ]
    return _xml(request, "qa/sitemap.xml", {"urls": [{"loc": base + p} for p in paths]})


@require_GET
@not_found_as_404
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri(reverse("qa:sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /api/",
        "Disallow: /admin/",
        "Disallow: /moderation/",
        "Disallow: /accounts/",
        "Disallow: /report/",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
